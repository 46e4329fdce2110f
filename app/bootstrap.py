"""The composition root: the one place that picks real or simulated parts for a terminal.

Swap a device for its simulator here and nowhere else.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.config import Settings
from app.devices.emv_source import ReaderCardSource
from app.devices.nfc_reader import NfcReader
from app.devices.pcsc_reader import PcscReader
from app.devices.pin_entry import KnownPin, PinEntry
from app.devices.printer import PrinterError, SlipPrinter, TextFilePrinter
from app.devices.printing.escpos_printer import EscposSlipPrinter
from app.devices.printing.preview import PreviewPrinter
from app.devices.simulated_card import CardBehaviour, ContactlessLimits, SimulatedCardSource
from app.devices.swipe_reader import EvdevSwipeReader
from app.domain.cards import EntryMode
from app.domain.money import Money
from app.domain.receipt import Receipt
from app.emv.capk import TEST_KEYS, CapkFileError, CapkStore
from app.emv.config import KernelConfig
from app.host.client import HostClient
from app.journal.journal import Journal
from app.services.clock import Clock, SystemClock
from app.services.context import CardInput, Context, merchant_of
from app.services.errors import PosError
from app.services.lock import TerminalLock
from app.services.printing import Printing
from app.services.terminal import Terminal
from app.sim.card_profiles import CARD_PROFILES, card_profile


def build_terminal(
    settings: Settings,
    *,
    exclusive: bool = True,
    clock: Clock | None = None,
    printer: SlipPrinter | None = None,
    progress: Callable[[str], None] | None = None,
    confirm_copy: Callable[[str, str], bool] | None = None,
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
        Printing(
            printer or slip_printer(settings),
            merchant_of(settings),
            settings.printer.copies,
            confirm_copy if settings.printer.confirm_between_copies else None,
        ),
    )
    if progress is not None:
        ctx.progress = progress
    terminal = Terminal(ctx, lock)
    terminal.start()
    return terminal


class NoPrinter:
    """`[printer] transport = "none"`: slips are not printed (they can be reprinted once a printer is there)."""

    def print_slip(self, receipt: Receipt) -> str:
        raise PrinterError("no printer is configured: reprint the slip when one is")


def slip_printer(settings: Settings) -> SlipPrinter:
    """The configured printer: a real one over ESC/POS, or a preview that writes pictures of the slips."""
    p = settings.printer
    directory = p.preview_dir or settings.terminal.data_dir / "slips"
    if p.transport == "preview":
        return PreviewPrinter(directory, p.profile)
    if p.transport == "text":
        return TextFilePrinter(directory, p.profile.columns)
    if p.transport == "none":
        return NoPrinter()
    return EscposSlipPrinter(p)


class ConsolePinEntry:
    """Cardholder PIN typed at the console: demo and test benches only, never a certified PIN pad.

    POS_CARDHOLDER_PIN answers for scripts and tests; otherwise standard input, unseen when it is a terminal."""

    def ask(self, amount: Money, tries_left: int | None = None) -> str | None:
        scripted = os.environ.get("POS_CARDHOLDER_PIN")
        if scripted is not None:
            return scripted
        if not sys.stdin.isatty():
            line = sys.stdin.readline()
            return line.strip() or None
        left = f", {tries_left} tries left" if tries_left is not None else ""
        return getpass.getpass(f"Customer PIN for {amount}{left} (Enter to cancel): ") or None


@dataclass(frozen=True)
class Readers:
    """The real readers a transaction may use; an empty string chip reader means the first PC/SC reader."""

    chip: str | None = None
    contactless: str | None = None
    swipe: Path | None = None

    @property
    def any(self) -> bool:
        return self.chip is not None or bool(self.contactless) or self.swipe is not None

    @classmethod
    def configured(cls, settings: Settings) -> Readers:
        c = settings.cards
        return cls(c.chip_reader, c.contactless_reader, c.swipe_device) if c.source == "readers" else cls()


def kernel_config(settings: Settings) -> KernelConfig:
    """Production terminals trust only the networks' CA keys; training terminals also the emulated cards' CA."""
    files = [settings.cards.capk_file] if settings.cards.capk_file else []
    if settings.terminal.training:
        files.append(TEST_KEYS)
    try:
        capks = CapkStore.load(*files)
    except CapkFileError as exc:
        raise PosError(str(exc)) from None
    return KernelConfig(
        aids=settings.emv_aids,
        capks=capks,
        contactless_transaction_limit_minor=settings.cards.contactless_limit.minor,
        contactless_cvm_limit_minor=settings.cards.contactless_cvm_limit.minor,
    )


def card_input(
    settings: Settings,
    profile: str | None = None,
    entry: str | None = None,
    behaviour: CardBehaviour = CardBehaviour.NORMAL,
    readers: Readers | None = None,
) -> CardInput:
    """The card for one transaction: from real readers (command-line choice first, then the configuration), or
    one of the simulated test-card profiles."""
    chosen = readers if readers is not None and readers.any else Readers.configured(settings)
    if chosen.any:
        if profile or entry:
            raise PosError("--card and --entry choose a simulated card; with a reader, the card is the one presented")
        return CardInput(reader_source(settings, chosen), ConsolePinEntry())
    return _simulated(settings, profile, entry, behaviour)


def reader_source(settings: Settings, readers: Readers) -> ReaderCardSource:
    return ReaderCardSource(
        kernel_config(settings),
        chip=PcscReader(readers.chip or None) if readers.chip is not None else None,
        tap=NfcReader(readers.contactless) if readers.contactless else None,
        swipe=EvdevSwipeReader(str(readers.swipe)) if readers.swipe is not None else None,
    )


def _simulated(settings: Settings, profile: str | None, entry: str | None, behaviour: CardBehaviour) -> CardInput:
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
