"""The acquirer's working keys at rest: still wrapped in their TR-31 blocks under the terminal master key."""

from __future__ import annotations

from datetime import datetime

from app.host.keys import KeyBlock
from app.journal.store import Store
from app.journal.transactions import utc_text


class Keyring:
    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, blocks: dict[str, KeyBlock], now: datetime) -> None:
        with self.store.write() as c:
            c.execute("DELETE FROM working_keys")
            c.executemany(
                "INSERT INTO working_keys (usage, key_block, kcv, received_at) VALUES (?, ?, ?, ?)",
                [(b.usage, b.block, b.kcv, utc_text(now)) for b in blocks.values()],
            )

    def load(self) -> dict[str, KeyBlock]:
        rows = self.store.query("SELECT usage, key_block, kcv FROM working_keys")
        return {r[0]: KeyBlock(r[0], r[1], r[2]) for r in rows}

    def clear(self) -> None:
        with self.store.write() as c:
            c.execute("DELETE FROM working_keys")
