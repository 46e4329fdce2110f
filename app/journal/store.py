"""The SQLite file under the journal: durable settings, migrations and write transactions."""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.errors import UserFacingError
from app.journal.migrations import LATEST_VERSION, MIGRATIONS


def is_corruption(exc: BaseException) -> bool:
    """SQLite's own verdict that the file is damaged, as opposed to busy, locked or full."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return isinstance(exc, sqlite3.DatabaseError) and (name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB")


class JournalError(UserFacingError):
    """The journal cannot be trusted or used: corrupt, written by a newer version, or not writable."""


class JournalWriteFailed(JournalError):
    """A commit did not reach the disk: nothing of it is in the journal. str() is one line for the cashier."""


# SQLite's primary result codes that mean the disk did not take the write (as opposed to a bad statement).
_NOT_WRITTEN = {
    sqlite3.SQLITE_FULL: "disk full",
    sqlite3.SQLITE_IOERR: "input/output error",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_CANTOPEN: "cannot open its files",
    sqlite3.SQLITE_PERM: "permission denied",
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "locked",
}


def _not_written(exc: sqlite3.Error) -> str | None:
    """Why the disk refused the write, or None when the error is not about the disk."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else _NOT_WRITTEN.get(code & 0xFF)


# Room for a sale's intent and outcome with their WAL frames, with a wide margin: a few pages each.
ROOM_FOR_A_SALE = 1 << 20
NO_SALE = "no sale is possible"


def free_bytes(directory: Path) -> int:
    """Space left on the directory's file system (what a root process may use)."""
    st = os.statvfs(directory)
    return st.f_bfree * st.f_frsize


class Store:
    """One connection, WAL mode, synchronous=FULL: a commit returns only once it is on the disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        # Told of every corruption error a read or a write meets: the terminal stops money moving from then on.
        self.on_damage: Callable[[str], None] | None = None
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _refuse_read_only(path)
            new = not path.exists()
            self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
            if new:
                os.chmod(path, 0o600)
            self.conn.row_factory = sqlite3.Row
            mode = self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise JournalError(f"journal {path} cannot use WAL mode (got {mode})")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA busy_timeout=10000")
            self._migrate()
            self._require_tables()
        except sqlite3.DatabaseError as exc:
            # Opening writes (the WAL index): on a full disk SQLite says "disk I/O error", which sends people
            # looking for a broken card reader or SD card instead of at the space.
            if _not_written(exc) is not None and free_bytes(path.parent) < ROOM_FOR_A_SALE:
                raise JournalWriteFailed(f"the journal cannot be written: disk full — {NO_SALE}") from None
            raise JournalError(f"journal {path} cannot be opened: {exc}") from None
        except OSError as exc:
            raise JournalError(f"journal {path} cannot be created: {exc.strerror}") from None

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > LATEST_VERSION:
            raise JournalError(
                f"journal {self.path} was written by a newer KioskPOS (schema {version}, this one knows "
                f"{LATEST_VERSION}); install the newer version"
            )
        for step, script in MIGRATIONS:
            if step <= version:
                continue
            # executescript() commits first, so the step and its version bump are wrapped by hand.
            try:
                self.conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {step};\nCOMMIT;")
            except sqlite3.Error:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def _require_tables(self) -> None:
        """A table gone from a journal whose version says it has it: the file was tampered with or damaged.
        Refused at the door, rather than as "no such table" in the middle of a sale."""
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        missing = sorted(_schema_tables() - {str(row[0]) for row in rows})
        if missing:
            raise JournalError(
                f"journal {self.path} is damaged (its table {', '.join(missing)} is gone): restore journal.sqlite "
                "from its backup, or call support; see pos doctor"
            )

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic, durable commit. Nested uses join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._heard(exc)
                self._abandon()
                why = _not_written(exc)
                if why is None:
                    raise
                # Callers must be able to tell "not written" from a bug: money code turns it into an unknown
                # outcome, and a sale that has not started yet is refused in one line.
                raise JournalWriteFailed(f"the journal cannot be written: {why}") from exc
            except BaseException as exc:
                self._heard(exc)
                self._abandon()
                raise
            finally:
                self._depth = 0

    def _abandon(self) -> None:
        """Roll back whatever is open. A failed COMMIT can leave the transaction open, and the next BEGIN
        would then fail for a reason that has nothing to do with it."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    def has_room_for_a_sale(self) -> bool:
        return free_bytes(self.path.parent) >= ROOM_FOR_A_SALE

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                self._heard(exc)
                raise

    def query_one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            try:
                row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
            except sqlite3.DatabaseError as exc:
                self._heard(exc)
                raise
            return row

    def _heard(self, exc: BaseException) -> None:
        if self.on_damage is not None and is_corruption(exc):
            self.on_damage(str(exc))

    def pragma(self, name: str) -> Any:
        return self.query_one(f"PRAGMA {name}")[0]  # type: ignore[index]

    def close(self) -> None:
        with self._lock:
            self.conn.close()


def _refuse_read_only(path: Path) -> None:
    """SQLite opens a file it cannot write read-only without a word, and fails later at the first sale."""
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if part.exists() and not os.access(part, os.R_OK | os.W_OK):
            raise JournalError(
                f"journal file {part} cannot be written (read-only): mount it read-write or restore its "
                "permissions (owner read and write), then start again"
            )


@functools.cache
def _schema_tables() -> frozenset[str]:
    """The tables the migrations make, learnt by running them on an empty database in memory."""
    conn = sqlite3.connect(":memory:")
    try:
        for _step, script in MIGRATIONS:
            conn.executescript(script)
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return frozenset(str(row[0]) for row in rows)
    finally:
        conn.close()
