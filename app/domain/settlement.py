"""Batch totals and the settlement state machine.

The terminal and the acquirer simulator both compute totals with `compute_totals`, so "the totals match" means
the same thing on both sides: the same rows, counted by the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.domain.transaction import TxnKind, TxnState


@dataclass(frozen=True)
class Group:
    """Rows of one batch that share kind, state, brand and funding: what a GROUP BY returns."""

    kind: TxnKind
    state: TxnState
    brand: str
    funding: str
    count: int
    amount_minor: int


@dataclass(frozen=True)
class Line:
    count: int = 0
    amount_minor: int = 0

    def add(self, count: int, amount_minor: int) -> Line:
        return Line(self.count + count, self.amount_minor + amount_minor)


# Which (kind, state) pairs count in the totals, and the sign they carry into the net amount.
# A voided sale is simply gone (撤销: "the sale vanishes from the totals"); its void is listed but nets to zero.
# Pre-auths hold money without moving it, so they are listed with sign 0.
_COUNTED: dict[tuple[TxnKind, TxnState], int] = {
    (TxnKind.SALE, TxnState.APPROVED): +1,
    (TxnKind.COMPLETION, TxnState.APPROVED): +1,
    (TxnKind.REFUND, TxnState.APPROVED): -1,
    (TxnKind.VOID, TxnState.APPROVED): 0,
    (TxnKind.PREAUTH, TxnState.APPROVED): 0,
    (TxnKind.PREAUTH, TxnState.COMPLETED): 0,
    (TxnKind.PREAUTH_VOID, TxnState.APPROVED): 0,
}


@dataclass(frozen=True)
class BatchTotals:
    currency: str
    by_kind: dict[str, Line] = field(default_factory=dict)
    # Keyed "brand/funding" (e.g. "visa/credit"); only money-moving rows, amounts signed.
    by_card: dict[str, Line] = field(default_factory=dict)
    net_minor: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "net_minor": self.net_minor,
            "by_kind": {k: [v.count, v.amount_minor] for k, v in sorted(self.by_kind.items())},
            "by_card": {k: [v.count, v.amount_minor] for k, v in sorted(self.by_card.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BatchTotals:
        def lines(raw: Any) -> dict[str, Line]:
            if not isinstance(raw, dict):
                raise ValueError("totals must be an object")
            out = {}
            for key, pair in raw.items():
                if not (isinstance(pair, list) and len(pair) == 2 and all(_is_int(x) for x in pair)):
                    raise ValueError(f"bad totals line {key!r}")
                out[str(key)] = Line(pair[0], pair[1])
            return out

        if not isinstance(data, dict) or not isinstance(data.get("currency"), str):
            raise ValueError("totals need a currency")
        if not _is_int(data.get("net_minor")):
            raise ValueError("totals need an integer net_minor")
        return cls(data["currency"], lines(data.get("by_kind")), lines(data.get("by_card")), data["net_minor"])


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def compute_totals(currency: str, groups: Iterable[Group]) -> BatchTotals:
    by_kind: dict[str, Line] = {}
    by_card: dict[str, Line] = {}
    net = 0
    for g in groups:
        sign = _COUNTED.get((g.kind, g.state))
        if sign is None:
            continue
        by_kind[g.kind.value] = by_kind.get(g.kind.value, Line()).add(g.count, g.amount_minor)
        if sign:
            key = f"{g.brand}/{g.funding}"
            by_card[key] = by_card.get(key, Line()).add(g.count, sign * g.amount_minor)
            net += sign * g.amount_minor
    return BatchTotals(currency, by_kind, by_card, net)


@dataclass(frozen=True)
class BatchItem:
    """One row of a batch upload: how one side sees one transaction."""

    trace: int
    kind: TxnKind
    state: TxnState
    amount_minor: int

    def describe(self) -> str:
        return f"{self.kind.value} {self.state.value} {self.amount_minor}"


@dataclass(frozen=True)
class Difference:
    trace: int
    terminal: str | None  # how the terminal saw it, or None if it has no such row
    acquirer: str | None


def find_differences(terminal: Iterable[BatchItem], acquirer: Iterable[BatchItem]) -> list[Difference]:
    """Rows that count differently on the two sides (rows that count on neither side are ignored)."""

    def counted(items: Iterable[BatchItem]) -> dict[int, str]:
        return {i.trace: i.describe() for i in items if (i.kind, i.state) in _COUNTED}

    ours, theirs = counted(terminal), counted(acquirer)
    return [
        Difference(trace, ours.get(trace), theirs.get(trace))
        for trace in sorted(ours.keys() | theirs.keys())
        if ours.get(trace) != theirs.get(trace)
    ]


class SettlementState(StrEnum):
    # Totals frozen and the settlement request armed; found after a crash, it is re-sent with the same key.
    STARTED = "started"
    # The acquirer's totals differ: the batch detail must be uploaded before settling again.
    MISMATCH = "mismatch"
    # The acquirer has the batch detail; the closing settlement request is next.
    UPLOADED = "uploaded"
    # The acquirer confirmed: the batch is closed and the next batch number is in use. Final.
    SETTLED = "settled"


SETTLEMENT_TRANSITIONS: dict[SettlementState, frozenset[SettlementState]] = {
    SettlementState.STARTED: frozenset({SettlementState.MISMATCH, SettlementState.SETTLED}),
    SettlementState.MISMATCH: frozenset({SettlementState.UPLOADED}),
    SettlementState.UPLOADED: frozenset({SettlementState.SETTLED}),
    SettlementState.SETTLED: frozenset(),
}
