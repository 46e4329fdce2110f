"""The audit log: who signed in, who was locked out, who authorised voids and refunds, settlements, setup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.journal.store import Store
from app.journal.transactions import utc_text


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str
    event: str
    detail: str


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, actor: str, event: str, detail: str, now: datetime) -> None:
        with self.store.write() as c:
            c.execute(
                "INSERT INTO audit (at, actor, event, detail) VALUES (?, ?, ?, ?)",
                (utc_text(now), actor, event, detail),
            )

    def recent(self, limit: int = 100) -> list[AuditEntry]:
        rows = self.store.query("SELECT at, actor, event, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [AuditEntry(*r) for r in rows]

    def purge_before(self, cutoff: datetime) -> int:
        with self.store.write() as c:
            return c.execute("DELETE FROM audit WHERE at < ?", (utc_text(cutoff),)).rowcount
