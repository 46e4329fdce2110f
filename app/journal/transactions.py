"""Transactions in the journal: intents, outcomes and every state change, each one a durable commit."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from app.domain.settlement import BatchItem, Group
from app.domain.transaction import TxnKind, TxnState, check_transition
from app.journal.records import Intent, Outcome, TxnRecord
from app.journal.store import Store


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Transactions:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- counters -------------------------------------------------------------------------------------------

    def current_batch(self) -> int:
        row = self.store.query_one("SELECT value FROM counters WHERE name = 'batch'")
        assert row is not None
        return int(row[0])

    def next_trace(self) -> int:
        row = self.store.query_one("SELECT value FROM counters WHERE name = 'next_trace'")
        assert row is not None
        return int(row[0])

    # -- writes ---------------------------------------------------------------------------------------------

    def record_intent(self, intent: Intent) -> TxnRecord:
        """Commit the intent, with a fresh trace number, in the open batch. From here a reversal is armed:
        whatever happens next, the row says PENDING until an outcome is committed."""
        now = utc_text(intent.created_at)
        card = intent.card
        with self.store.write() as c:
            trace = c.execute(
                "UPDATE counters SET value = value + 1 WHERE name = 'next_trace' RETURNING value - 1"
            ).fetchone()[0]
            batch = c.execute("SELECT value FROM counters WHERE name = 'batch'").fetchone()[0]
            c.execute(
                """INSERT INTO transactions (trace, batch, kind, state, amount_minor, currency, created_at,
                   local_date, updated_at, operator, supervisor, idempotency_key, orig_trace, masked_pan,
                   pan_token, brand, funding, entry_mode, cvm, emv)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    trace,
                    batch,
                    intent.kind.value,
                    TxnState.PENDING.value,
                    intent.amount_minor,
                    intent.currency,
                    now,
                    intent.local_date,
                    now,
                    intent.operator,
                    intent.supervisor,
                    intent.idempotency_key,
                    intent.orig_trace,
                    card and card.masked_pan,
                    card and card.pan_token,
                    card and card.brand,
                    card and card.funding,
                    card and card.entry_mode,
                    card and card.cvm,
                    json.dumps(card.emv if card else {}),
                ),
            )
        record = self.get(trace)
        assert record is not None
        return record

    def record_outcome(
        self, trace: int, outcome: Outcome, now: datetime, original: tuple[int, TxnState] | None = None
    ) -> TxnRecord:
        """Commit an outcome (and, for voids and completions, the original's new state) atomically."""
        with self.store.write() as c:
            current = self._require(trace)
            check_transition(current.state, outcome.state)
            emv = {**current.emv, **(outcome.emv or {})}
            c.execute(
                """UPDATE transactions SET state = ?, response_code = COALESCE(?, response_code),
                   auth_code = COALESCE(?, auth_code), rrn = COALESCE(?, rrn),
                   balance_minor = COALESCE(?, balance_minor), reason = COALESCE(?, reason), emv = ?,
                   updated_at = ? WHERE trace = ?""",
                (
                    outcome.state.value,
                    outcome.response_code,
                    outcome.auth_code,
                    outcome.rrn,
                    outcome.balance_minor,
                    outcome.reason,
                    json.dumps(emv),
                    utc_text(now),
                    trace,
                ),
            )
            if original is not None:
                orig_trace, orig_state = original
                check_transition(self._require(orig_trace).state, orig_state)
                c.execute(
                    "UPDATE transactions SET state = ?, updated_at = ? WHERE trace = ?",
                    (orig_state.value, utc_text(now), orig_trace),
                )
        return self._require(trace)

    def note_reversal_failure(self, trace: int, error: str, now: datetime) -> None:
        with self.store.write() as c:
            c.execute(
                """UPDATE transactions SET reversal_attempts = reversal_attempts + 1, reversal_error = ?,
                   updated_at = ? WHERE trace = ?""",
                (error, utc_text(now), trace),
            )

    # -- reads ----------------------------------------------------------------------------------------------

    def get(self, trace: int) -> TxnRecord | None:
        row = self.store.query_one("SELECT * FROM transactions WHERE trace = ?", (trace,))
        return None if row is None else TxnRecord.from_row(row)

    def _require(self, trace: int) -> TxnRecord:
        record = self.get(trace)
        if record is None:
            raise KeyError(f"no transaction with trace {trace}")
        return record

    def in_flight(self) -> list[TxnRecord]:
        """Rows still waiting for the acquirer. Served by a partial index: never a scan of the journal."""
        rows = self.store.query(
            "SELECT * FROM transactions WHERE state IN ('pending', 'reversal_pending') ORDER BY trace"
        )
        return [TxnRecord.from_row(r) for r in rows]

    def last(self) -> TxnRecord | None:
        row = self.store.query_one("SELECT * FROM transactions ORDER BY trace DESC LIMIT 1")
        return None if row is None else TxnRecord.from_row(row)

    def newest_created_at(self) -> str | None:
        row = self.store.query_one("SELECT created_at FROM transactions ORDER BY trace DESC LIMIT 1")
        return None if row is None else str(row[0])

    def search(
        self,
        *,
        batch: int | None = None,
        local_date: str | None = None,
        amount_minor: int | None = None,
        kind: TxnKind | None = None,
        limit: int = 50,
    ) -> list[TxnRecord]:
        clauses, params = [], []
        for column, value in (
            ("batch", batch),
            ("local_date", local_date),
            ("amount_minor", amount_minor),
            ("kind", kind.value if kind else None),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        # Only fixed column names are joined into the SQL; every value is a bound parameter.
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM transactions {where} ORDER BY trace DESC LIMIT ?"  # noqa: S608
        rows = self.store.query(sql, (*params, limit))
        return [TxnRecord.from_row(r) for r in rows]

    def refunds_of(self, orig_trace: int) -> int:
        """Amount already refunded or possibly being refunded (pending or awaiting reversal) from a sale."""
        row = self.store.query_one(
            """SELECT COALESCE(SUM(amount_minor), 0) FROM transactions WHERE orig_trace = ? AND kind = 'refund'
               AND state IN ('approved', 'pending', 'reversal_pending')""",
            (orig_trace,),
        )
        return int(row[0]) if row else 0

    def batch_groups(self, batch: int) -> list[Group]:
        rows = self.store.query(
            """SELECT kind, state, COALESCE(brand, ''), COALESCE(funding, ''), COUNT(*), SUM(amount_minor)
               FROM transactions WHERE batch = ? GROUP BY kind, state, brand, funding""",
            (batch,),
        )
        return [Group(TxnKind(r[0]), TxnState(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    def batch_items(self, batch: int) -> list[BatchItem]:
        rows = self.store.query(
            "SELECT trace, kind, state, amount_minor FROM transactions WHERE batch = ? ORDER BY trace",
            (batch,),
        )
        return [BatchItem(r[0], TxnKind(r[1]), TxnState(r[2]), r[3]) for r in rows]

    def batch_span(self, batch: int) -> tuple[int | None, int | None, str | None, str | None]:
        row = self.store.query_one(
            "SELECT MIN(trace), MAX(trace), MIN(created_at), MAX(created_at) FROM transactions WHERE batch = ?",
            (batch,),
        )
        assert row is not None
        return row[0], row[1], row[2], row[3]

    def purge_before(self, cutoff: datetime, open_batch: int) -> int:
        """Forget final rows of closed batches created before the cutoff (the refund window has passed)."""
        with self.store.write() as c:
            cursor = c.execute(
                """DELETE FROM transactions WHERE created_at < ? AND batch < ?
                   AND state NOT IN ('pending', 'reversal_pending')""",
                (utc_text(cutoff), open_batch),
            )
            return cursor.rowcount
