"""The journal file: is it intact, and is it set up to survive a power cut.

Two depths, measured on a 200,000-row journal (93 MB) on the development VM:

    PRAGMA quick_check       80 ms with the file in the page cache, about 1 s from disk
    PRAGMA integrity_check  400 ms in the page cache,                 about 1.4 s from disk

Both read every page, so from disk both cost what reading the file costs (more on a Pi's SD card). Start-up
reads a few index rows (under 1 ms), so neither may run in its path: `StartupCheck` runs quick_check on its own
read-only connection and thread. The self-test runs the full integrity_check, which also compares every index
with its table.

When money waits for the quick_check depends on how the terminal last stopped. After a crash or a power cut
(no `CleanClose` record, or one that no longer matches the file) the first sale waits for the verdict: that
is when a torn write is likeliest. After a clean stop the file is the one the last run closed, so sales start
at once and the check runs when the terminal is idle, and before any settlement; meanwhile every read that
meets SQLite's own corruption error stops sales (Store.on_damage), and a damaged verdict stops them from the
moment it is known.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from pathlib import Path

from app.journal.store import Store, is_corruption
from app.services.health.check import Check, failed, passed

log = logging.getLogger(__name__)

PART = "journal"
SALES_BLOCKED = "journal damaged: sales are disabled — call support; see pos doctor"
UNREADABLE = "journal damaged: this part of it cannot be read — call support; see pos doctor"
SYNCHRONOUS_FULL = 2


def is_damage(exc: BaseException) -> bool:
    """SQLite's own verdict that the file is damaged, as opposed to busy, locked or full."""
    return is_corruption(exc)


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


class CleanClose:
    """A record, beside the journal, that the terminal owning it closed it cleanly: the file's size and change time
    just after the close. Taken (and removed) at the next start, so a run that crashes leaves none behind; a file
    changed since, by anything, no longer matches it."""

    def __init__(self, journal: Path) -> None:
        self._journal = journal
        self._record = journal.with_name(journal.name + ".clean")

    def _facts(self) -> dict[str, int] | None:
        try:
            st = self._journal.stat()
        except OSError:
            return None
        return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}

    def record(self) -> None:
        """After the journal's last connection closed. Not knowing is not fatal: the next start checks first."""
        facts = self._facts()
        if facts is None:
            return
        partial = self._record.with_name(self._record.name + ".partial")
        try:
            partial.write_text(json.dumps(facts))
            os.replace(partial, self._record)
        except OSError as exc:
            log.warning("could not note the journal's clean close (%s): the next start checks it first", exc)

    def take(self) -> bool:
        """Whether the last run closed this very file cleanly. The record is removed first, so that it can never
        vouch for this run too, should it crash."""
        try:
            text = self._record.read_text()
        except FileNotFoundError:
            return False
        except OSError as exc:
            log.warning("could not read %s (%s): checking the journal first", self._record, exc)
            return False
        try:
            self._record.unlink()
        except OSError as exc:
            log.warning("could not remove %s (%s): checking the journal first", self._record, exc)
            return False
        try:
            recorded = json.loads(text)
        except ValueError:
            return False
        return bool(recorded == self._facts())


class StartupCheck:
    """PRAGMA quick_check beside the terminal, so that opening the terminal stays a matter of milliseconds."""

    def __init__(self, path: Path) -> None:
        self._uri = path.resolve().as_uri() + "?mode=ro"  # read-only: the check may never write or checkpoint
        self._done = threading.Event()
        self._problem: str | None = None
        self._complete = False  # the check ran to its end (or met damage): not cut short, not unable to run
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="journal-check", daemon=True)
        self._thread.start()

    def problem(self) -> str | None:
        """Waits for the verdict: None when the journal passed (or could not be checked), else the complaint."""
        self._done.wait()
        return self._problem

    def complete(self) -> bool:
        """The verdict is in and is a real one: the check was neither cut short nor unable to run."""
        return self._done.is_set() and self._complete

    def known_problem(self) -> str | None:
        """The complaint if the verdict is in and it is one; never waits."""
        return self._problem if self._done.is_set() else None

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
            self._complete = True
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                self._problem = str(exc)
                self._complete = True
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
