"""The composition root: the one place that picks real or simulated parts for a terminal.

Swap a device for its simulator here and nowhere else.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable

from app.config import Settings
from app.devices.pin_entry import KnownPin, PinEntry
from app.devices.printer import SlipPrinter, TextFilePrinter
from app.devices.simulated_card import CardBehaviour, ContactlessLimits, SimulatedCardSource
from app.domain.cards import EntryMode
from app.domain.money import Money
from app.host.client import HostClient
from app.journal.journal import Journal
from app.services.clock import Clock, SystemClock
from app.services.context import CardInput, Context
from app.services.errors import PosError
from app.services.lock import TerminalLock
from app.services.terminal import Terminal
from app.sim.card_profiles import CARD_PROFILES, card_profile


def build_terminal(
    settings: Settings,
    *,
    exclusive: bool = True,
    clock: Clock | None = None,
    printer: SlipPrinter | None = None,
    progress: Callable[[str], None] | None = None,
) -> Terminal:
    """A started terminal. `exclusive` takes the terminal lock (every command that may change anything)."""
    lock = TerminalLock(settings.terminal.data_dir) if exclusive else None
    try:
        journal = Journal(settings.journal_path)
    except BaseException:
        if lock:
            lock.release()
        raise
    host = HostClient(settings.acquirer, settings.terminal.identity, settings.secrets.master_key, journal.keyring.clear)
    ctx = Context(
        settings,
        journal,
        host,
        clock or SystemClock(),
        printer or TextFilePrinter(settings.terminal.data_dir / "slips"),
    )
    if progress is not None:
        ctx.progress = progress
    terminal = Terminal(ctx, lock)
    terminal.start()
    return terminal


class ConsolePinEntry:
    """Cardholder PIN typed at the console: demo and test benches only, never a certified PIN pad."""

    def ask(self, amount: Money) -> str | None:
        if not sys.stdin.isatty():
            line = sys.stdin.readline()
            return line.strip() or None
        return getpass.getpass(f"Customer PIN for {amount} (Enter to cancel): ") or None


def card_input(
    settings: Settings,
    profile: str | None = None,
    entry: str | None = None,
    behaviour: CardBehaviour = CardBehaviour.NORMAL,
) -> CardInput:
    """The card for one transaction. Today: the simulated test-card profiles (the EMV readers plug in here)."""
    name = profile or settings.cards.default_profile
    if name not in CARD_PROFILES:
        raise PosError(f"no test card called {name!r}; known: {', '.join(CARD_PROFILES)}")
    chosen = card_profile(name)
    mode = EntryMode(entry or _default_entry(settings, chosen.chip))
    limits = ContactlessLimits(settings.cards.contactless_limit, settings.cards.contactless_cvm_limit)
    source = SimulatedCardSource(chosen, mode, limits, behaviour)
    pin_entry: PinEntry
    if settings.cards.pin_entry == "console":
        pin_entry = ConsolePinEntry()
    else:
        # The simulated cardholder types their card's PIN, unless a test says otherwise.
        pin_entry = KnownPin(os.environ.get("POS_CARDHOLDER_PIN") or chosen.pin)
    return CardInput(source, pin_entry)


def _default_entry(settings: Settings, has_chip: bool) -> str:
    return settings.cards.default_entry if has_chip else EntryMode.SWIPE.value
