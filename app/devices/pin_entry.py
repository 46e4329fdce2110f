"""Cardholder PIN entry. The clear PIN exists only between the keypad and the PIN block encryption.

A touchscreen or a console is not a certified PIN entry device: configurations say which is in use, and the
slips and screens of a non-certified setup are marked for demo/test.
"""

from __future__ import annotations

import re
from typing import Protocol

from psec import pinblock

from app.devices.card import CardError, PinCancelled
from app.domain.money import Money


class PinEntry(Protocol):
    def ask(self, amount: Money, tries_left: int | None = None) -> str | None:
        """The digits the cardholder typed, or None if they cancelled. `tries_left`: the chip's PIN try counter,
        for offline PIN (shown to the cardholder after a wrong PIN)."""
        ...


class KnownPin:
    """The simulated cardholder: types the PIN it was given (the test card's own, unless told otherwise)."""

    def __init__(self, pin: str) -> None:
        self._pin = pin

    def ask(self, amount: Money, tries_left: int | None = None) -> str | None:
        return self._pin


class EncryptingPinPad:
    """Turns what a PinEntry collects into an ISO 9564 format 4 PIN block under the PIN working key."""

    def __init__(self, entry: PinEntry, pin_key: bytes) -> None:
        self._entry = entry
        self._pin_key = pin_key

    def online_pin_block(self, pan: str, amount: Money) -> bytes:
        return pinblock.encipher_pinblock_iso_4(self._pin_key, self._pin(amount, None), pan)

    def offline_pin_block(self, amount: Money, tries_left: int | None) -> bytes:
        # Plaintext offline PIN: the block goes to the chip, which compares it itself; nothing is enciphered.
        return bytes(pinblock.encode_pinblock_iso_2(self._pin(amount, tries_left)))

    def _pin(self, amount: Money, tries_left: int | None) -> str:
        pin = self._entry.ask(amount, tries_left)
        if pin is None:
            raise PinCancelled()
        if not re.fullmatch(r"[0-9]{4,12}", pin):
            raise CardError("a PIN is 4 to 12 digits")
        return pin
