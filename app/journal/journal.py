"""The journal: one SQLite file, and the repositories that read and write it."""

from __future__ import annotations

from pathlib import Path

from app.journal.audit import AuditLog
from app.journal.keyring import Keyring
from app.journal.meta import Meta
from app.journal.settlements import Settlements
from app.journal.staff import Staff
from app.journal.store import Store
from app.journal.transactions import Transactions


class Journal:
    def __init__(self, path: Path) -> None:
        self.store = Store(path)
        self.txns = Transactions(self.store)
        self.staff = Staff(self.store)
        self.keyring = Keyring(self.store)
        self.settlements = Settlements(self.store)
        self.audit = AuditLog(self.store)
        self.meta = Meta(self.store)

    def close(self) -> None:
        self.store.close()
