"""What the self-test tests damage on purpose: a journal with a page overwritten, certificates with chosen dates,
a clock set to a chosen moment."""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import trustme

from app.config import Settings
from app.sim.home import TERMINAL_ID


def journal_root_page(journal: Path, table_or_index: str) -> tuple[int, int]:
    """(page size, root page) of a table or index in a journal nobody has open."""
    with sqlite3.connect(journal) as db:
        page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
        row = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table_or_index,)).fetchone()
    db.close()
    assert row is not None, f"no {table_or_index} in the journal"
    return page_size, int(row[0])


def copy_journal(journal: Path, data_dir: Path) -> Path:
    """A copy of a journal nobody has open, with its WAL folded in first so the one file holds everything."""
    with sqlite3.connect(journal) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data_dir.mkdir(parents=True, exist_ok=True)
    copy = data_dir / journal.name
    shutil.copyfile(journal, copy)
    return copy


def damaged_copy(journal: Path, data_dir: Path, victim: str) -> Path:
    """A copy with the first bytes of `victim`'s root page overwritten (or of the file's header: "header"), as a
    failing SD card or a torn write would leave it. The original is not touched."""
    copy = copy_journal(journal, data_dir)
    page_size, page = (0, 1) if victim == "header" else journal_root_page(copy, victim)
    with copy.open("r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(b"\xa5" * 64)
    return copy


def in_data_dir(settings: Settings, data_dir: Path) -> Settings:
    return replace(settings, terminal=replace(settings.terminal, data_dir=data_dir))


@dataclass
class SetClock:
    """The terminal's Clock port, set to a moment (a Pi whose clock went back, or was never set)."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


def write_pki(directory: Path, client_not_before: datetime, client_not_after: datetime) -> None:
    """The simulator's PKI files, made here so the terminal's client certificate has the dates a test needs;
    SimulatorHome keeps PKI files it finds (app/sim/certs.py)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="KioskPOS test acquirer CA")
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert(
        f"{TERMINAL_ID}.terminals.kioskpos.test",
        common_name=TERMINAL_ID,
        not_before=client_not_before,
        not_after=client_not_after,
    )
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    server.private_key_and_cert_chain_pem.write_to_path(str(directory / "server.pem"))
    client.cert_chain_pems[0].write_to_path(str(directory / f"client-{TERMINAL_ID}.pem"))
    client.private_key_pem.write_to_path(str(directory / f"client-{TERMINAL_ID}.key"))
    os.chmod(directory / f"client-{TERMINAL_ID}.key", 0o600)


def other_ca(directory: Path) -> Path:
    """A CA file of a CA that signed nothing the simulator shows."""
    path = directory / "other-ca.pem"
    trustme.CA(organization_name="Somebody else").cert_pem.write_to_path(str(path))
    return path
