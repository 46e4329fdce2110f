"""The SQLite file under the journal: durable settings, migrations and write transactions."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.journal.migrations import LATEST_VERSION, MIGRATIONS


def is_corruption(exc: BaseException) -> bool:
    """SQLite's own verdict that the file is damaged, as opposed to busy, locked or full."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return isinstance(exc, sqlite3.DatabaseError) and (name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB")


class JournalError(Exception):
    """The journal cannot be trusted or used: corrupt, written by a newer version, or not writable."""


class Store:
    """One connection, WAL mode, synchronous=FULL: a commit returns only once it is on the disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        # Told of every corruption error a read or a write meets: the terminal stops money moving from then on.
        self.on_damage: Callable[[str], None] | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
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
        except sqlite3.DatabaseError as exc:
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
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException as exc:
                self._heard(exc)
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

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
