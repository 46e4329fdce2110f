"""结算: totals agree with the acquirer; a mismatch is uploaded and settled; a cut-off settlement resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain.settlement import SettlementState
from app.domain.transaction import TxnState
from app.services.errors import PosError


def _day(rig, terminal):
    a = terminal.sale(rig.money("100.00"), rig.card("visa-credit")).record
    b = terminal.sale(rig.money("50.00"), rig.card("unionpay-debit", "contactless")).record
    terminal.sale(rig.money("9.05"), rig.card("mastercard-debit"))
    terminal.void(b.trace, "123456")
    return a, b


def test_settlement_matches_closes_the_batch_and_opens_the_next(rig, terminal):
    _day(rig, terminal)
    result = terminal.settle()
    r = result.record
    assert r.state is SettlementState.SETTLED and r.matched is True
    assert r.terminal_totals.net_minor == 10000
    assert r.terminal_totals.by_kind["sale"].count == 1
    assert r.terminal_totals.by_kind["void"].count == 1
    assert r.terminal_totals.by_card == r.acquirer_totals.by_card
    assert terminal.status().batch == 2
    assert result.slip and Path(result.slip).read_text(encoding="utf-8").count("TOTALS MATCH") == 1
    settled = rig.home.ledger.settlement(rig.settings.terminal.terminal_id, 1)
    assert settled is not None and settled["matched"] == 1


def test_a_mismatch_uploads_the_batch_and_settles_with_the_differences(rig, terminal):
    a, _ = _day(rig, terminal)
    # The acquirer's books disagree: it has a sale the terminal never saw (trace 900) and lost sale `a`.
    with rig.home.ledger.transaction() as c:
        c.execute(
            """INSERT INTO requests (idempotency_key, terminal_id, stan, batch, kind, amount_minor, currency,
               fingerprint, status, response_code, response, brand, funding)
               VALUES ('phantom-0000000000000', ?, 900, 1, 'sale', 777, 'CNY', 'x', 'approved', '00', '{}',
               'visa', 'credit')""",
            (rig.settings.terminal.terminal_id,),
        )
        c.execute("UPDATE requests SET status = 'declined' WHERE idempotency_key = ?", (a.idempotency_key,))
    result = terminal.settle()
    r = result.record
    assert r.state is SettlementState.SETTLED and r.matched is False
    assert {(d.trace, d.terminal, d.acquirer) for d in r.differences} == {
        (900, None, "sale approved 777"),
        (a.trace, "sale approved 10000", None),
    }
    uploaded = rig.home.ledger.uploaded_items(rig.settings.terminal.terminal_id, 1)
    assert len(uploaded) == 4
    assert "TOTALS DIFFER" in Path(result.slip).read_text(encoding="utf-8")
    assert terminal.status().batch == 2


def test_a_settlement_cut_off_by_an_outage_resumes_where_it_stopped(rig, terminal):
    _day(rig, terminal)
    with rig.home.ledger.transaction() as c:  # force the upload path
        c.execute("DELETE FROM requests WHERE stan = 1")
    rig.server.stop()
    with pytest.raises(PosError, match="settle again"):
        terminal.settle()
    unfinished = terminal.ctx.journal.settlements.unfinished()
    assert unfinished is not None and unfinished.state is SettlementState.STARTED
    with pytest.raises(PosError, match="not finished"):
        terminal.sale(rig.money("1.00"), rig.card())
    rig.restart_simulator()
    result = terminal.settle()
    assert result.record.state is SettlementState.SETTLED and result.record.matched is False
    assert terminal.ctx.journal.settlements.unfinished() is None


def test_an_empty_batch_settles_too(rig, terminal):
    result = terminal.settle()
    assert result.record.matched is True and result.record.terminal_totals.net_minor == 0


def test_settlement_purges_rows_older_than_the_refund_window(rig, terminal):
    old = terminal.sale(rig.money("10.00"), rig.card()).record
    terminal.settle()
    with terminal.ctx.journal.store.write() as c:
        c.execute("UPDATE transactions SET created_at = '2020-01-01T00:00:00.000000Z' WHERE trace = ?", (old.trace,))
    terminal.sale(rig.money("11.00"), rig.card())
    result = terminal.settle()
    assert result.purged == 1
    assert terminal.ctx.journal.txns.get(old.trace) is None
    assert terminal.status().next_trace == old.trace + 2, "trace numbers are never reused after a purge"


def test_settlement_totals_agree_with_the_acquirers_ledger_json(rig, terminal):
    _day(rig, terminal)
    r = terminal.settle().record
    stored = rig.home.ledger.settlement(rig.settings.terminal.terminal_id, r.batch)
    assert json.loads(stored["totals"]) == r.terminal_totals.to_json()
    assert terminal.get(1).state is TxnState.APPROVED
