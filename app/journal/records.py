"""What the journal keeps about a transaction: the intent (before the acquirer hears of it) and the outcome."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain.transaction import TxnKind, TxnState


@dataclass(frozen=True)
class CardSummary:
    """All the journal may hold about a card."""

    masked_pan: str
    pan_token: str
    brand: str
    funding: str
    entry_mode: str
    cvm: str
    emv: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Intent:
    kind: TxnKind
    amount_minor: int
    currency: str
    operator: str
    idempotency_key: str
    created_at: datetime  # aware
    local_date: str
    card: CardSummary | None = None
    orig_trace: int | None = None
    supervisor: str | None = None


@dataclass(frozen=True)
class Outcome:
    state: TxnState
    response_code: str | None = None
    auth_code: str | None = None
    rrn: str | None = None
    balance_minor: int | None = None
    reason: str | None = None
    emv: dict[str, str] | None = None  # merged into the intent's EMV tags (TC, final TVR)


@dataclass(frozen=True)
class TxnRecord:
    trace: int
    batch: int
    kind: TxnKind
    state: TxnState
    amount_minor: int
    currency: str
    created_at: str
    local_date: str
    updated_at: str
    operator: str
    supervisor: str | None
    idempotency_key: str
    orig_trace: int | None
    masked_pan: str | None
    pan_token: str | None
    brand: str | None
    funding: str | None
    entry_mode: str | None
    cvm: str | None
    emv: dict[str, str]
    response_code: str | None
    auth_code: str | None
    rrn: str | None
    balance_minor: int | None
    reason: str | None
    reversal_attempts: int
    reversal_error: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> TxnRecord:
        values: dict[str, Any] = dict(row)
        values["kind"] = TxnKind(values["kind"])
        values["state"] = TxnState(values["state"])
        values["emv"] = json.loads(values["emv"] or "{}")
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("pan_token", "idempotency_key")}
        out["kind"] = self.kind.value
        out["state"] = self.state.value
        return out
