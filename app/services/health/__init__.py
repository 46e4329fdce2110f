"""The terminal's self-test: card readers, printer, acquirer and certificates, clock, journal, disk.

Each check is independent: one part failing never stops the others, and no check raises (a check that breaks
becomes a failed check naming the part). `pos doctor` prints them; the app shows them; the diagnostics slip
lists them.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from datetime import datetime
from importlib import metadata
from pathlib import Path

from app.config import Settings
from app.devices.printer import SlipPrinter
from app.devices.readers import ContactlessReader
from app.journal.journal import Journal
from app.journal.store import Store
from app.services.clock import Clock
from app.services.health import acquirer, journal, printer, readers, system
from app.services.health.check import Check, guarded
from app.services.health.journal import SALES_BLOCKED, UNREADABLE, StartupCheck, is_damage
from app.services.health.system import DiskLimits

__all__ = [
    "SALES_BLOCKED",
    "UNREADABLE",
    "Check",
    "DiskLimits",
    "Health",
    "StartupCheck",
    "in_use",
    "is_damage",
    "software_version",
]


def software_version() -> str:
    try:
        return metadata.version("kioskpos")
    except metadata.PackageNotFoundError:
        return "unknown"


def in_use(data_dir: Path) -> bool:
    """Whether another holder has the terminal lock (the app, or a pos command that may write): a shared lock
    probe, which takes nothing from anyone."""
    try:
        fd = os.open(data_dir / "terminal.lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a probe that succeeded
    return False


class Health:
    def __init__(
        self,
        settings: Settings,
        *,
        journal: Journal | None,
        printer: SlipPrinter,
        clock: Clock,
        held_contactless: ContactlessReader | None = None,
        journal_error: str | None = None,
        terminal_elsewhere: bool = False,
        disk: DiskLimits | None = None,
    ) -> None:
        """`journal` None with `journal_error`: the file could not even be opened. `terminal_elsewhere`: another
        process owns the terminal, and may hold readers that cannot be opened twice."""
        self.settings = settings
        self.journal = journal
        self.printer = printer
        self.clock = clock
        self.held_contactless = held_contactless
        self.journal_error = journal_error
        self.terminal_elsewhere = terminal_elsewhere
        self.disk = disk or DiskLimits()
        self.damage: str | None = None  # set by the journal check: what SQLite found wrong with the file

    def checks(self) -> list[Check]:
        return [guarded(name, run) for name, run in self._parts()]

    def _parts(self) -> list[tuple[str, Callable[[], Check]]]:
        s = self.settings
        cards, a = s.cards, s.acquirer
        parts: list[tuple[str, Callable[[], Check]]] = []
        if cards.source != "readers":
            parts.append(("card readers", lambda: readers.simulated(s.terminal.training)))
        if cards.source == "readers" and cards.chip_reader is not None:
            chip = cards.chip_reader
            parts.append(("chip reader", lambda: readers.chip_reader(chip)))
        if cards.source == "readers" and cards.contactless_reader:
            path = cards.contactless_reader
            parts.append(
                (
                    "contactless reader",
                    lambda: readers.contactless_reader(path, self.held_contactless, self.terminal_elsewhere),
                )
            )
        if cards.source == "readers" and cards.swipe_device is not None:
            device = cards.swipe_device
            parts.append(("swipe reader", lambda: readers.swipe_reader(device)))
        parts += [
            ("printer", lambda: printer.printer_check(s.printer, self.printer)),
            ("acquirer", lambda: acquirer.acquirer_check(a)),
            (
                "client certificate",
                lambda: acquirer.certificate_check("client certificate", a.client_cert, self._now()),
            ),
            ("acquirer CA", lambda: acquirer.certificate_check("acquirer CA", a.ca_file, self._now())),
            ("clock", lambda: system.clock_check(self._now(), self._store())),
            ("journal", self._journal),
            ("disk", lambda: system.disk_check(s.terminal.data_dir, self.disk)),
        ]
        return parts

    def _now(self) -> datetime:
        return self.clock.now()

    def _store(self) -> Store | None:
        return self.journal.store if self.journal is not None else None

    def _journal(self) -> Check:
        if self.journal is None:
            return Check("journal", False, f"{self.journal_error or 'journal: not opened'} — call support")
        self.damage = journal.integrity_problem(self.journal.store)
        return journal.journal_check(self.journal.store, self.damage)
