"""The acquirer simulator's books: terminals, card balances and holds, every request it answered, settlements.

Its own SQLite file, apart from any terminal's journal. Cards are keyed by an HMAC of the PAN, never the PAN.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.domain.settlement import BatchItem, Group
from app.domain.transaction import TxnKind, TxnState

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS terminals (
    terminal_id  TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL,
    master_key   TEXT NOT NULL,
    working_keys TEXT
);
CREATE TABLE IF NOT EXISTS cards (
    card_hash     TEXT PRIMARY KEY,
    masked_pan    TEXT NOT NULL,
    balance_minor INTEGER NOT NULL,
    hold_minor    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS requests (
    idempotency_key TEXT PRIMARY KEY,
    terminal_id     TEXT NOT NULL,
    stan            INTEGER NOT NULL,
    batch           INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    amount_minor    INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    card_hash       TEXT,
    brand           TEXT NOT NULL DEFAULT '',
    funding         TEXT NOT NULL DEFAULT '',
    orig_key        TEXT,
    status          TEXT NOT NULL,
    response_code   TEXT NOT NULL,
    balance_delta   INTEGER NOT NULL DEFAULT 0,
    hold_delta      INTEGER NOT NULL DEFAULT 0,
    response        TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (terminal_id, stan)
);
CREATE INDEX IF NOT EXISTS requests_batch ON requests (terminal_id, batch);
CREATE INDEX IF NOT EXISTS requests_orig ON requests (orig_key);
CREATE TABLE IF NOT EXISTS replies (
    idempotency_key TEXT PRIMARY KEY,   -- reversals, settlements, uploads: answers kept for replays
    fingerprint     TEXT NOT NULL,
    response        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tombstones (
    idempotency_key TEXT PRIMARY KEY    -- reversed before it arrived: refuse it if it ever does
);
CREATE TABLE IF NOT EXISTS settlements (
    terminal_id TEXT NOT NULL,
    batch       INTEGER NOT NULL,
    matched     INTEGER NOT NULL,
    totals      TEXT NOT NULL,
    differences TEXT NOT NULL,
    PRIMARY KEY (terminal_id, batch)
);
CREATE TABLE IF NOT EXISTS uploads (
    terminal_id TEXT NOT NULL,
    batch       INTEGER NOT NULL,
    trace       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, batch, trace)
);
"""


@dataclass(frozen=True)
class RequestRow:
    idempotency_key: str
    terminal_id: str
    stan: int
    batch: int
    kind: TxnKind
    amount_minor: int
    currency: str
    fingerprint: str
    card_hash: str | None
    orig_key: str | None
    status: TxnState
    response_code: str
    balance_delta: int
    hold_delta: int
    response: dict[str, Any]
    brand: str = ""
    funding: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RequestRow:
        return cls(
            row["idempotency_key"],
            row["terminal_id"],
            row["stan"],
            row["batch"],
            TxnKind(row["kind"]),
            row["amount_minor"],
            row["currency"],
            row["fingerprint"],
            row["card_hash"],
            row["orig_key"],
            TxnState(row["status"]),
            row["response_code"],
            row["balance_delta"],
            row["hold_delta"],
            json.loads(row["response"]),
            row["brand"],
            row["funding"],
        )


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        # The simulator stands in for a bank's host; it survives its own restarts, not power cuts.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _one(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
            return row

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    # -- secrets of the simulator itself --------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- terminals ------------------------------------------------------------------------------------------

    def register_terminal(self, terminal_id: str, merchant_id: str, master_key: bytes) -> None:
        with self.transaction() as c:
            # Working keys issued earlier survive a restart; a new master key makes them worthless, so they go.
            c.execute(
                """INSERT INTO terminals (terminal_id, merchant_id, master_key) VALUES (?, ?, ?)
                   ON CONFLICT (terminal_id) DO UPDATE SET merchant_id = excluded.merchant_id,
                   working_keys = CASE WHEN master_key = excluded.master_key THEN working_keys END,
                   master_key = excluded.master_key""",
                (terminal_id, merchant_id, master_key.hex()),
            )

    def terminal(self, terminal_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM terminals WHERE terminal_id = ?", (terminal_id,))

    def set_working_keys(self, terminal_id: str, keys: dict[str, str]) -> None:
        with self.transaction() as c:
            c.execute("UPDATE terminals SET working_keys = ? WHERE terminal_id = ?", (json.dumps(keys), terminal_id))

    # -- cards ----------------------------------------------------------------------------------------------

    def ensure_card(self, c: sqlite3.Connection, card_hash: str, masked_pan: str, opening_balance: int) -> None:
        c.execute(
            "INSERT OR IGNORE INTO cards (card_hash, masked_pan, balance_minor) VALUES (?, ?, ?)",
            (card_hash, masked_pan, opening_balance),
        )

    def card(self, card_hash: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM cards WHERE card_hash = ?", (card_hash,))

    # -- requests -------------------------------------------------------------------------------------------

    def request(self, key: str) -> RequestRow | None:
        row = self._one("SELECT * FROM requests WHERE idempotency_key = ?", (key,))
        return None if row is None else RequestRow.from_row(row)

    def request_by_stan(self, terminal_id: str, stan: int) -> RequestRow | None:
        row = self._one("SELECT * FROM requests WHERE terminal_id = ? AND stan = ?", (terminal_id, stan))
        return None if row is None else RequestRow.from_row(row)

    def insert_request(self, c: sqlite3.Connection, r: RequestRow) -> None:
        c.execute(
            """INSERT INTO requests (idempotency_key, terminal_id, stan, batch, kind, amount_minor, currency,
               fingerprint, card_hash, brand, funding, orig_key, status, response_code, balance_delta,
               hold_delta, response) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                r.idempotency_key,
                r.terminal_id,
                r.stan,
                r.batch,
                r.kind.value,
                r.amount_minor,
                r.currency,
                r.fingerprint,
                r.card_hash,
                r.brand,
                r.funding,
                r.orig_key,
                r.status.value,
                r.response_code,
                r.balance_delta,
                r.hold_delta,
                json.dumps(r.response),
            ),
        )
        if r.card_hash and (r.balance_delta or r.hold_delta):
            self.move_money(c, r.card_hash, r.balance_delta, r.hold_delta)

    @staticmethod
    def move_money(c: sqlite3.Connection, card_hash: str, balance_delta: int, hold_delta: int) -> None:
        c.execute(
            "UPDATE cards SET balance_minor = balance_minor + ?, hold_minor = hold_minor + ? WHERE card_hash = ?",
            (balance_delta, hold_delta, card_hash),
        )

    @staticmethod
    def set_status(c: sqlite3.Connection, key: str, status: TxnState) -> None:
        c.execute("UPDATE requests SET status = ? WHERE idempotency_key = ?", (status.value, key))

    def refunded_total(self, c: sqlite3.Connection, orig_key: str) -> int:
        row = c.execute(
            "SELECT COALESCE(SUM(amount_minor), 0) FROM requests WHERE orig_key = ? AND kind = ? AND status = ?",
            (orig_key, TxnKind.REFUND.value, TxnState.APPROVED.value),
        ).fetchone()
        return int(row[0])

    # -- replays and tombstones -----------------------------------------------------------------------------

    def reply(self, key: str) -> tuple[str, dict[str, Any]] | None:
        row = self._one("SELECT fingerprint, response FROM replies WHERE idempotency_key = ?", (key,))
        return None if row is None else (row["fingerprint"], json.loads(row["response"]))

    @staticmethod
    def save_reply(c: sqlite3.Connection, key: str, fingerprint: str, response: dict[str, Any]) -> None:
        c.execute(
            "INSERT OR REPLACE INTO replies (idempotency_key, fingerprint, response) VALUES (?, ?, ?)",
            (key, fingerprint, json.dumps(response)),
        )

    def tombstoned(self, key: str) -> bool:
        return self._one("SELECT 1 FROM tombstones WHERE idempotency_key = ?", (key,)) is not None

    @staticmethod
    def tombstone(c: sqlite3.Connection, key: str) -> None:
        c.execute("INSERT OR IGNORE INTO tombstones (idempotency_key) VALUES (?)", (key,))

    # -- batches --------------------------------------------------------------------------------------------

    def batch_groups(self, terminal_id: str, batch: int) -> list[Group]:
        with self._lock:
            rows = self.conn.execute(
                """SELECT kind, status, brand, funding, COUNT(*) AS n, SUM(amount_minor) AS total FROM requests
                   WHERE terminal_id = ? AND batch = ? GROUP BY kind, status, brand, funding""",
                (terminal_id, batch),
            ).fetchall()
        return [
            Group(TxnKind(r["kind"]), TxnState(r["status"]), r["brand"], r["funding"], r["n"], r["total"]) for r in rows
        ]

    def batch_items(self, terminal_id: str, batch: int) -> list[BatchItem]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT stan, kind, status, amount_minor FROM requests WHERE terminal_id = ? AND batch = ?",
                (terminal_id, batch),
            ).fetchall()
        return [BatchItem(r[0], TxnKind(r[1]), TxnState(r[2]), r[3]) for r in rows]

    def settlement(self, terminal_id: str, batch: int) -> sqlite3.Row | None:
        return self._one("SELECT * FROM settlements WHERE terminal_id = ? AND batch = ?", (terminal_id, batch))

    def closed_batch(self, terminal_id: str) -> int:
        row = self._one("SELECT COALESCE(MAX(batch), 0) FROM settlements WHERE terminal_id = ?", (terminal_id,))
        return int(row[0]) if row else 0

    @staticmethod
    def save_settlement(
        c: sqlite3.Connection,
        terminal_id: str,
        batch: int,
        matched: bool,
        totals: dict[str, Any],
        differences: list[dict[str, Any]],
    ) -> None:
        c.execute(
            "INSERT OR REPLACE INTO settlements (terminal_id, batch, matched, totals, differences) VALUES (?,?,?,?,?)",
            (terminal_id, batch, int(matched), json.dumps(totals), json.dumps(differences)),
        )

    @staticmethod
    def store_upload(c: sqlite3.Connection, terminal_id: str, batch: int, items: list[BatchItem]) -> None:
        c.executemany(
            "INSERT OR REPLACE INTO uploads (terminal_id, batch, trace, kind, state, amount_minor) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(terminal_id, batch, i.trace, i.kind.value, i.state.value, i.amount_minor) for i in items],
        )

    def uploaded_items(self, terminal_id: str, batch: int) -> list[BatchItem]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT trace, kind, state, amount_minor FROM uploads WHERE terminal_id = ? AND batch = ?",
                (terminal_id, batch),
            ).fetchall()
        return [BatchItem(r[0], TxnKind(r[1]), TxnState(r[2]), r[3]) for r in rows]

    # -- reports (tests and the demo compare these with the terminal's figures) ------------------------------

    def net_for_terminal(self, terminal_id: str) -> int:
        """Money the terminal's merchant is owed by the acquirer's books: approved debits minus credits."""
        row = self._one(
            "SELECT COALESCE(-SUM(balance_delta), 0) FROM requests WHERE terminal_id = ? AND status != ?",
            (terminal_id, TxnState.REVERSED.value),
        )
        return int(row[0]) if row else 0
