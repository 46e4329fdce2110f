"""Operator accounts, their failed tries and lockouts, and who is signed in: all survive a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.operators import PinHash, Role
from app.journal.store import Store
from app.journal.transactions import utc_text


@dataclass(frozen=True)
class OperatorRecord:
    id: str
    role: Role
    pin: PinHash
    failures: int
    locked_at: str | None

    @property
    def locked(self) -> bool:
        return self.locked_at is not None


class Staff:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, operator_id: str) -> OperatorRecord | None:
        row = self.store.query_one("SELECT * FROM operators WHERE id = ?", (operator_id,))
        if row is None:
            return None
        return OperatorRecord(
            row["id"],
            Role(row["role"]),
            PinHash(row["salt"], row["digest"], row["cost"]),
            row["failures"],
            row["locked_at"],
        )

    def all(self) -> list[OperatorRecord]:
        ids = [r[0] for r in self.store.query("SELECT id FROM operators ORDER BY id")]
        return [op for op in map(self.get, ids) if op is not None]

    def put(self, operator_id: str, role: Role, pin: PinHash, now: datetime) -> None:
        """Create the account or give it a new PIN; either way it starts unlocked with no failures."""
        with self.store.write() as c:
            c.execute(
                """INSERT INTO operators (id, role, salt, digest, cost, failures, locked_at, created_at)
                   VALUES (?, ?, ?, ?, ?, 0, NULL, ?)
                   ON CONFLICT (id) DO UPDATE SET salt = excluded.salt, digest = excluded.digest,
                   cost = excluded.cost, failures = 0, locked_at = NULL""",
                (operator_id, role.value, pin.salt, pin.digest, pin.n, utc_text(now)),
            )

    def remove(self, operator_id: str) -> None:
        with self.store.write() as c:
            c.execute("DELETE FROM operators WHERE id = ?", (operator_id,))
            c.execute("DELETE FROM session WHERE operator = ?", (operator_id,))

    def record_failure(self, operator_id: str, lock_after: int, now: datetime) -> int:
        with self.store.write() as c:
            failures = c.execute(
                "UPDATE operators SET failures = failures + 1 WHERE id = ? RETURNING failures", (operator_id,)
            ).fetchone()[0]
            if failures >= lock_after:
                c.execute(
                    "UPDATE operators SET locked_at = COALESCE(locked_at, ?) WHERE id = ?",
                    (utc_text(now), operator_id),
                )
            return int(failures)

    def clear_failures(self, operator_id: str) -> None:
        with self.store.write() as c:
            c.execute("UPDATE operators SET failures = 0 WHERE id = ? AND failures != 0", (operator_id,))

    def unlock(self, operator_id: str) -> None:
        with self.store.write() as c:
            c.execute("UPDATE operators SET failures = 0, locked_at = NULL WHERE id = ?", (operator_id,))

    # -- the signed-in operator -----------------------------------------------------------------------------

    def signed_in(self) -> str | None:
        row = self.store.query_one("SELECT operator FROM session WHERE slot = 1")
        return None if row is None else str(row[0])

    def sign_in(self, operator_id: str, now: datetime) -> None:
        with self.store.write() as c:
            c.execute(
                "INSERT OR REPLACE INTO session (slot, operator, signed_in_at) VALUES (1, ?, ?)",
                (operator_id, utc_text(now)),
            )

    def sign_out(self) -> None:
        with self.store.write() as c:
            c.execute("DELETE FROM session")
