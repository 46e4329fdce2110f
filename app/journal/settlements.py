"""Settlement records. Closing a batch and advancing the batch number happen in the same commit."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from app.domain.settlement import SETTLEMENT_TRANSITIONS, BatchTotals, Difference, SettlementState
from app.domain.transaction import IllegalTransition
from app.journal.store import Store
from app.journal.transactions import utc_text


@dataclass(frozen=True)
class SettlementRecord:
    batch: int
    state: SettlementState
    started_at: str
    finished_at: str | None
    idempotency_key: str
    terminal_totals: BatchTotals
    acquirer_totals: BatchTotals | None
    matched: bool | None
    differences: list[Difference]
    first_trace: int | None
    last_trace: int | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> SettlementRecord:
        return cls(
            row["batch"],
            SettlementState(row["state"]),
            row["started_at"],
            row["finished_at"],
            row["idempotency_key"],
            BatchTotals.from_json(json.loads(row["terminal_totals"])),
            BatchTotals.from_json(json.loads(row["acquirer_totals"])) if row["acquirer_totals"] else None,
            None if row["matched"] is None else bool(row["matched"]),
            [Difference(**d) for d in json.loads(row["differences"] or "[]")],
            row["first_trace"],
            row["last_trace"],
        )


class Settlements:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, batch: int) -> SettlementRecord | None:
        row = self.store.query_one("SELECT * FROM settlements WHERE batch = ?", (batch,))
        return None if row is None else SettlementRecord.from_row(row)

    def unfinished(self) -> SettlementRecord | None:
        row = self.store.query_one("SELECT * FROM settlements WHERE state != 'settled' ORDER BY batch LIMIT 1")
        return None if row is None else SettlementRecord.from_row(row)

    def last_settled(self) -> SettlementRecord | None:
        row = self.store.query_one("SELECT * FROM settlements WHERE state = 'settled' ORDER BY batch DESC LIMIT 1")
        return None if row is None else SettlementRecord.from_row(row)

    def start(
        self, batch: int, key: str, totals: BatchTotals, traces: tuple[int | None, int | None], now: datetime
    ) -> SettlementRecord:
        with self.store.write() as c:
            c.execute(
                """INSERT INTO settlements (batch, state, started_at, idempotency_key, terminal_totals,
                   first_trace, last_trace) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (
                    batch,
                    SettlementState.STARTED.value,
                    utc_text(now),
                    key,
                    json.dumps(totals.to_json()),
                    *traces,
                ),
            )
        record = self.get(batch)
        assert record is not None
        return record

    def move(
        self,
        batch: int,
        target: SettlementState,
        now: datetime,
        *,
        next_key: str | None = None,
        acquirer_totals: BatchTotals | None = None,
        matched: bool | None = None,
        differences: list[Difference] | None = None,
    ) -> SettlementRecord:
        """Advance the settlement; reaching SETTLED closes the batch and opens the next one (清机)."""
        with self.store.write() as c:
            current = self.get(batch)
            if current is None or target not in SETTLEMENT_TRANSITIONS[current.state]:
                raise IllegalTransition(f"settlement of batch {batch} cannot go to {target}")
            c.execute(
                """UPDATE settlements SET state = ?, idempotency_key = COALESCE(?, idempotency_key),
                   acquirer_totals = COALESCE(?, acquirer_totals), matched = COALESCE(?, matched),
                   differences = COALESCE(?, differences), finished_at = ? WHERE batch = ?""",
                (
                    target.value,
                    next_key,
                    json.dumps(acquirer_totals.to_json()) if acquirer_totals else None,
                    None if matched is None else int(matched),
                    json.dumps([d.__dict__ for d in differences]) if differences is not None else None,
                    utc_text(now) if target is SettlementState.SETTLED else None,
                    batch,
                ),
            )
            if target is SettlementState.SETTLED:
                c.execute("UPDATE counters SET value = ? WHERE name = 'batch' AND value = ?", (batch + 1, batch))
        record = self.get(batch)
        assert record is not None
        return record

    def renew_key(self, batch: int, key: str) -> None:
        with self.store.write() as c:
            c.execute("UPDATE settlements SET idempotency_key = ? WHERE batch = ?", (key, batch))
