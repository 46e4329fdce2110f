"""An emulated card in a reader that is only a function call: the demo's test-card drawer, kernel tests and the
kernel's CPU benchmark. The acceptance path puts the same cards behind pcscd (vpcd.py) and nfcpy (isodep.py)."""

from __future__ import annotations

import threading

from app.devices.card import CardRemoved
from app.sim.emulator.base import EmulatedCard


class DirectTransport:
    def __init__(self, card: EmulatedCard, reader: EmulatedReader) -> None:
        self._card = card
        self._reader = reader

    def transmit(self, command: bytes) -> bytes:
        if self._reader.card is not self._card:
            raise CardRemoved()
        return self._card.process(command)

    def close(self) -> None:
        pass


class EmulatedReader:
    """Holds at most one card. Serves as a chip or a contactless reader (both wait for a card the same way)."""

    def __init__(self, name: str = "Emulated reader") -> None:
        self.name = name
        self.card: EmulatedCard | None = None
        self._inserted = threading.Event()

    def insert(self, card: EmulatedCard) -> None:
        card.reset()
        self.card = card
        self._inserted.set()

    def remove(self) -> None:
        self.card = None
        self._inserted.clear()

    def card_present(self) -> bool:
        return self.card is not None

    def wait_for_card(self, timeout_s: float, cancel: threading.Event | None = None) -> DirectTransport | None:
        if not self._inserted.wait(timeout_s) or self.card is None:
            return None
        return DirectTransport(self.card, self)

    def close(self) -> None:
        self.remove()
