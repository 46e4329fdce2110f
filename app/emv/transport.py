"""How the kernel reaches a card: one APDU in, one response out. Readers (PC/SC, NFC) implement this."""

from __future__ import annotations

from typing import Protocol


class CardTransport(Protocol):
    def transmit(self, command: bytes) -> bytes:
        """Send one command APDU and return the card's answer: response data followed by SW1 SW2.

        Raises app.devices.card.CardRemoved when the card has left the reader or field, and
        app.devices.card.CardError for any other reader failure. Never returns a partial answer."""
        ...

    def close(self) -> None:
        """Power the card down / release it. Safe to call twice."""
        ...
