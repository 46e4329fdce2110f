"""F48 of the settlement from the journal's batch groups: UnionPay counts debits (sales and completions) and
credits (refunds), once for domestic cards (UnionPay's own, "内卡") and once for international ones ("外卡").

Rows count by the same rule as `app.domain.settlement.compute_totals` (approved only: a voided sale is no
longer approved, so it has left the debits, as 撤销 means), so "the totals match" means the same on both
protocols."""

from __future__ import annotations

from collections.abc import Iterable

from app.domain.cards import CardBrand
from app.domain.settlement import Group
from app.domain.transaction import TxnKind, TxnState
from app.host.iso8583.messages import SettlementTotals

DEBITS = (TxnKind.SALE, TxnKind.COMPLETION)
CREDITS = (TxnKind.REFUND,)


def settlement_totals(groups: Iterable[Group]) -> tuple[SettlementTotals, SettlementTotals]:
    """(domestic, foreign) totals of one batch."""
    sums = {True: [0, 0, 0, 0], False: [0, 0, 0, 0]}
    for g in groups:
        if g.state is not TxnState.APPROVED:
            continue
        line = sums[g.brand == CardBrand.UNIONPAY.value]
        if g.kind in DEBITS:
            line[0] += g.amount_minor
            line[1] += g.count
        elif g.kind in CREDITS:
            line[2] += g.amount_minor
            line[3] += g.count
    return SettlementTotals(*sums[True]), SettlementTotals(*sums[False])
