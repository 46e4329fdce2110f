"""The card readers a terminal may have, as the kernel and the card sources see them.

Each kind has a real implementation (pyscard, nfcpy, a USB keyboard-wedge swipe reader) and is tested against
the real stack with emulated cards (pcscd + vpcd, nfcpy's UDP transport).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from app.emv.transport import CardTransport


class ChipReader(Protocol):
    """A contact reader (PC/SC)."""

    name: str

    def wait_for_card(self, timeout_s: float, cancel: threading.Event | None = None) -> CardTransport | None:
        """Wait until a card is inserted and powered; None on timeout or cancel. Survives pcscd restarts and
        readers unplugged and plugged back in while waiting."""
        ...

    def card_present(self) -> bool: ...


class ContactlessReader(Protocol):
    """A contactless reader (nfcpy): ISO 14443-4 (ISO-DEP) cards only."""

    name: str

    def wait_for_card(self, timeout_s: float, cancel: threading.Event | None = None) -> CardTransport | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, repr=False)
class Track2:
    """Track 2 as read from a stripe: PAN, expiry YYMM, service code, discretionary data."""

    pan: str
    expiry: str
    service_code: str
    discretionary: str

    def __repr__(self) -> str:
        return f"Track2({self.pan[:6]}...{self.pan[-4:]})"

    __str__ = __repr__


class SwipeReader(Protocol):
    """A magnetic stripe reader that types the tracks like a keyboard (USB HID keyboard wedge)."""

    def wait_for_swipe(self, timeout_s: float, cancel: threading.Event | None = None) -> Track2 | None: ...
