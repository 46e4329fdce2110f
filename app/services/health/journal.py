"""The journal file: is it intact, and is it set up to survive a power cut.

Two depths, measured on a 200,000-row journal (93 MB) on the development VM:

    PRAGMA quick_check       80 ms with the file in the page cache, about 1 s from disk
    PRAGMA integrity_check  400 ms in the page cache,                 about 1.4 s from disk

Both read every page, so from disk both cost what reading the file costs (more on a Pi's SD card). Start-up
reads a few index rows (under 1 ms), so neither may run in its path: `StartupCheck` runs quick_check on its own
read-only connection and thread, and only what moves money waits for its verdict. The self-test runs the full
integrity_check, which also compares every index with its table.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from app.journal.store import Store
from app.services.health.check import Check, failed, passed

log = logging.getLogger(__name__)

PART = "journal"
SALES_BLOCKED = "journal damaged: sales are disabled — call support; see pos doctor"
UNREADABLE = "journal damaged: this part of it cannot be read — call support; see pos doctor"
SYNCHRONOUS_FULL = 2


def is_damage(exc: BaseException) -> bool:
    """SQLite's own verdict that the file is damaged, as opposed to busy, locked or full."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return isinstance(exc, sqlite3.DatabaseError) and (name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB")


def _first_problem(rows: list[sqlite3.Row] | list[tuple[str]]) -> str | None:
    first = str(rows[0][0]) if rows else "no answer"
    if first == "ok":
        return None
    lines = [line for line in first.splitlines() if not line.startswith("***")]
    return "; ".join(lines)[:160] or first[:160]


def integrity_problem(store: Store) -> str | None:
    """The full check on the live connection: None when intact, else SQLite's first complaint."""
    try:
        return _first_problem(store.query("PRAGMA integrity_check(1)"))
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            return str(exc)
        raise


def journal_check(store: Store, problem: str | None) -> Check:
    if problem is not None:
        return failed(PART, f"damaged ({problem}): sales are disabled — call support")
    mode = str(store.pragma("journal_mode"))
    if mode != "wal":
        return failed(PART, f"in {mode} mode, not WAL: restart the terminal; if it stays, call support")
    synchronous = int(store.pragma("synchronous"))
    if synchronous != SYNCHRONOUS_FULL:
        return failed(PART, f"synchronous = {synchronous}, not FULL (2): a power cut could lose a committed sale")
    wal = store.path.with_name(store.path.name + "-wal")
    size = store.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return passed(PART, f"intact (integrity_check ok), WAL, synchronous FULL, {size / 1e6:.1f} MB")


class StartupCheck:
    """PRAGMA quick_check beside the terminal, so that opening the terminal stays a matter of milliseconds."""

    def __init__(self, path: Path) -> None:
        self._uri = path.resolve().as_uri() + "?mode=ro"  # read-only: the check may never write or checkpoint
        self._done = threading.Event()
        self._problem: str | None = None
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="journal-check", daemon=True)
        self._thread.start()

    def problem(self) -> str | None:
        """Waits for the verdict: None when the journal passed (or could not be checked), else the complaint."""
        self._done.wait()
        return self._problem

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._conn is not None:
                self._conn.interrupt()
        self._thread.join()

    def _run(self) -> None:
        try:
            with self._lock:
                if self._stopped:
                    return
                self._conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            self._problem = _first_problem(self._conn.execute("PRAGMA quick_check(1)").fetchall())
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                self._problem = str(exc)
            elif not self._stopped:
                # Not knowing is not damage: the self-test's full check on the live connection will say more.
                log.warning("journal quick_check could not run: %s", exc)
        finally:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
            if self._problem is not None:
                log.error("journal quick_check failed: %s", self._problem)
            self._done.set()
