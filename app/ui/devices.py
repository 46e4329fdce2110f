"""The touchscreen as a device: PIN entry, the cardholder's application choice, "tear off the merchant copy",
and, in demo mode, the drawer of emulated cards that stand in for readers.

Each asks the UI through the bridge and blocks the engine's worker until a person answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.devices.readers import Track2
from app.domain.money import Money
from app.emv.selection import Candidate
from app.sim.card_profiles import CARD_PROFILES
from app.sim.emulator.direct import EmulatedReader
from app.sim.emulator.profiles import EMULATED_CARDS, make_card
from app.ui.bridge import Question

# What the screens show for the cardholder: the amount, tries left; they answer with digits or None (cancel).
PinAsker = Callable[[Money, int | None, Callable[[str | None], None]], None]
Chooser = Callable[[list[Candidate], Callable[[int | None], None]], None]
CopyConfirmer = Callable[[str, str, Callable[[bool], None]], None]


class TouchPinEntry:
    """PIN digits from the on-screen keypad. Not a certified PIN pad: screens say so unless configured otherwise."""

    def __init__(self, show: PinAsker, cancel: threading.Event | None = None) -> None:
        self._show = show
        self.cancel = cancel

    def ask(self, amount: Money, tries_left: int | None = None) -> str | None:
        answer: str | None = Question(lambda reply: self._show(amount, tries_left, reply)).ask(self.cancel)
        return answer


def touch_chooser(show: Chooser, cancel: threading.Event | None = None) -> Callable[[list[Candidate]], int]:
    def choose(candidates: list[Candidate]) -> int:
        index: int | None = Question(lambda reply: show(candidates, reply)).ask(cancel)
        return -1 if index is None else index  # -1: nothing chosen, the kernel stops cleanly

    return choose


def touch_confirm(show: CopyConfirmer) -> Callable[[str, str], bool]:
    def confirm(prompt: str, printed: str) -> bool:
        answer: Any = Question(lambda reply: show(prompt, printed, reply)).ask()
        return bool(answer)

    return confirm


class DrawerSwipe:
    """The demo's magnetic stripe reader: a swipe is a button in the card drawer."""

    def __init__(self) -> None:
        self._swipes: list[Track2] = []
        self._arrived = threading.Event()

    def swipe(self, track: Track2) -> None:
        self._swipes.append(track)
        self._arrived.set()

    def wait_for_swipe(self, timeout_s: float, cancel: threading.Event | None = None) -> Track2 | None:
        if not self._arrived.wait(timeout_s) or not self._swipes:
            return None
        track = self._swipes.pop(0)
        if not self._swipes:
            self._arrived.clear()
        return track

    def discard_pending(self) -> None:
        self._swipes.clear()
        self._arrived.clear()


@dataclass(frozen=True)
class DrawerCard:
    name: str
    label: str
    ways: tuple[str, ...]  # "insert", "tap", "swipe"


def drawer_cards() -> list[DrawerCard]:
    """Every emulated EMV card, and the stripe-only test card; the magic amounts are shown beside them."""
    cards = []
    for name, spec in EMULATED_CARDS.items():
        ways = ("tap",) if spec.kernel != "contact" else ("insert", "swipe")
        cards.append(DrawerCard(name, spec.description, ways))
    stripe = CARD_PROFILES["magstripe-visa"]
    cards.append(DrawerCard(stripe.name, stripe.description, ("swipe",)))
    return cards


class DemoReaders:
    """The readers of demo mode, filled from the on-screen card drawer."""

    def __init__(self) -> None:
        self.chip = EmulatedReader("demo chip reader")
        self.tap = EmulatedReader("demo contactless reader")
        self.swipe = DrawerSwipe()

    def present(self, card: str, way: str) -> None:
        self.take_back()
        if way == "swipe":
            self.swipe.swipe(_stripe_of(card))
        elif way == "tap":
            self.tap.insert(make_card(card))
        else:
            self.chip.insert(make_card(card))

    def take_back(self) -> None:
        """Card out of the reader and out of the field: done at the end of every transaction."""
        self.chip.remove()
        self.tap.remove()
        self.swipe.discard_pending()


def _stripe_of(card: str) -> Track2:
    if card in CARD_PROFILES:
        p = CARD_PROFILES[card]
        return Track2(p.pan, p.expiry, p.service_code, "0000000000")
    spec = EMULATED_CARDS[card]
    return Track2(spec.apps[0].pan, spec.expiry[:4], spec.service_code, "0000000000")
