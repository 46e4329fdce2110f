from app.domain.settlement import BatchItem, BatchTotals, Group, compute_totals, find_differences
from app.domain.transaction import TxnKind, TxnState


def g(kind, state, amount, count=1, brand="visa", funding="credit"):
    return Group(kind, state, brand, funding, count, amount)


def test_a_voided_sale_vanishes_and_refunds_subtract():
    totals = compute_totals(
        "CNY",
        [
            g(TxnKind.SALE, TxnState.APPROVED, 10000, 2),
            g(TxnKind.SALE, TxnState.VOIDED, 500),
            g(TxnKind.VOID, TxnState.APPROVED, 500),
            g(TxnKind.REFUND, TxnState.APPROVED, 2500, brand="unionpay", funding="debit"),
            g(TxnKind.SALE, TxnState.DECLINED, 999),
            g(TxnKind.SALE, TxnState.REVERSED, 777),
            g(TxnKind.PREAUTH, TxnState.APPROVED, 3000),
            g(TxnKind.COMPLETION, TxnState.APPROVED, 2000),
        ],
    )
    assert totals.net_minor == 10000 + 2000 - 2500
    assert totals.by_kind["sale"].count == 2 and totals.by_kind["sale"].amount_minor == 10000
    assert totals.by_kind["void"].amount_minor == 500
    assert "preauth" in totals.by_kind
    assert totals.by_card["unionpay/debit"].amount_minor == -2500
    assert totals.by_card["visa/credit"].amount_minor == 12000


def test_totals_survive_json():
    totals = compute_totals("CNY", [g(TxnKind.SALE, TxnState.APPROVED, 1234)])
    assert BatchTotals.from_json(totals.to_json()) == totals


def test_differences_name_the_traces_that_count_differently():
    terminal = [BatchItem(1, TxnKind.SALE, TxnState.APPROVED, 100), BatchItem(2, TxnKind.SALE, TxnState.DECLINED, 5)]
    acquirer = [BatchItem(1, TxnKind.SALE, TxnState.APPROVED, 100), BatchItem(3, TxnKind.SALE, TxnState.APPROVED, 7)]
    diffs = find_differences(terminal, acquirer)
    assert [(d.trace, d.terminal, d.acquirer) for d in diffs] == [(3, None, "sale approved 7")]
