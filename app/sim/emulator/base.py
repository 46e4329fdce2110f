"""What a transport needs from an emulated card."""

from __future__ import annotations

from typing import Protocol


class EmulatedCard(Protocol):
    @property
    def atr(self) -> bytes:
        """Answer to reset (contact) — or the historical bytes for the ATS (contactless)."""
        ...

    def reset(self) -> None:
        """Power-on / reset: forget the selected application and any transaction in progress."""
        ...

    def process(self, apdu: bytes) -> bytes:
        """One command APDU in, the response out (data followed by SW1 SW2). Never raises for a bad APDU:
        the card answers it with an error status word, as a real card does."""
        ...
