"""The terminal process is killed with SIGKILL at each point between its durable steps, then restarted.

Every transaction must end in exactly one final state, and the acquirer's ledger must agree with the journal:
never two charges, never a lost approval.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from typing import Any

import pytest

from app.domain.transaction import TxnState
from tests.integration.cli_rig import POS, ROOT, pos, pos_json, wait_for

KILLED = -signal.SIGKILL
SUPERVISOR = {"POS_SUPERVISOR_PIN": "123456"}


def _journal(rig) -> dict[int, tuple[str, str, int]]:
    with sqlite3.connect(rig.settings.journal_path) as db:
        rows = db.execute("SELECT trace, kind, state, amount_minor FROM transactions").fetchall()
    return {t: (k, s, a) for t, k, s, a in rows}


def _terminal_net(rig) -> int:
    net = 0
    for kind, state, amount in _journal(rig).values():
        if state == TxnState.APPROVED.value and kind in ("sale", "completion"):
            net += amount
        elif state == TxnState.APPROVED.value and kind == "refund":
            net -= amount
    return net


def _books_agree(rig) -> None:
    journal = _journal(rig)
    assert not any(TxnState(state).in_flight for _, state, _ in journal.values()), journal
    assert _terminal_net(rig) == rig.acquirer_net


def _recover(rig) -> dict[str, Any]:
    code, report = pos_json(rig.home.terminal_config, "recover")
    assert code == 0, report
    return report


@pytest.fixture
def cfg(rig):
    code, _ = pos_json(rig.home.terminal_config, "signin", "--operator", "01", env={"POS_PIN": "0000"})
    assert code == 0
    return rig.home.terminal_config


@pytest.mark.parametrize("point", ["before_send", "after_response"])
def test_a_sale_killed_before_its_outcome_is_committed_is_reversed(rig, cfg, point):
    done = pos(cfg, "sale", "12.34", env={"KIOSKPOS_CRASH_AT": point})
    assert done.returncode == KILLED
    assert _journal(rig)[1][1] == "pending"
    _recover(rig)
    assert _journal(rig)[1][1] == "reversed"
    _books_agree(rig)
    assert rig.acquirer_net == 0
    # The acquirer never keeps a charge for it, whether or not the request had reached it.
    row = rig.home.ledger.request_by_stan(rig.settings.terminal.terminal_id, 1)
    assert row is None if point == "before_send" else row.status is TxnState.REVERSED


def test_a_sale_killed_after_its_request_was_sent_is_reversed(rig, cfg):
    # .98: the acquirer records the approval, then waits past the read timeout before answering;
    # the terminal is killed while it waits, so the request has certainly been sent and processed.
    proc = subprocess.Popen(
        [*POS, "--config", str(cfg), "sale", "12.98"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: rig.home.ledger.request_by_stan(rig.settings.terminal.terminal_id, 1) is not None)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == KILLED
    assert rig.home.ledger.request_by_stan(rig.settings.terminal.terminal_id, 1).status is TxnState.APPROVED
    _recover(rig)
    assert _journal(rig)[1][1] == "reversed"
    assert rig.home.ledger.request_by_stan(rig.settings.terminal.terminal_id, 1).status is TxnState.REVERSED
    _books_agree(rig)


def test_a_sale_killed_after_its_outcome_is_committed_stands_and_is_charged_once(rig, cfg):
    done = pos(cfg, "sale", "12.34", env={"KIOSKPOS_CRASH_AT": "after_commit"})
    assert done.returncode == KILLED
    assert _journal(rig)[1][1] == "approved"
    report = _recover(rig)
    assert report["waiting"] == []
    assert _journal(rig)[1][1] == "approved"
    assert rig.acquirer_net == 1234
    _books_agree(rig)
    code, slip = pos_json(cfg, "reprint", "1")
    assert code == 0 and slip["status"] == "approved"


def test_a_kill_during_the_reversal_does_not_credit_twice(rig, cfg):
    # .68 loses the sale's answer; the reversal is acknowledged, and the terminal dies before recording that.
    done = pos(cfg, "sale", "12.68", env={"KIOSKPOS_CRASH_AT": "during_reversal"})
    assert done.returncode == KILLED
    assert _journal(rig)[1][1] == "reversal_pending"
    assert rig.home.ledger.request_by_stan(rig.settings.terminal.terminal_id, 1).status is TxnState.REVERSED
    balance = rig.balance_of("4761739001010010")
    _recover(rig)
    assert _journal(rig)[1][1] == "reversed"
    assert rig.balance_of("4761739001010010") == balance, "the repeated reversal was answered, not applied again"
    _books_agree(rig)


def test_a_void_killed_before_its_outcome_leaves_the_sale_standing_on_both_sides(rig, cfg):
    code, sale = pos_json(cfg, "sale", "50.00")
    assert code == 0
    done = pos(cfg, "void", str(sale["trace"]), env={**SUPERVISOR, "KIOSKPOS_CRASH_AT": "after_response"})
    assert done.returncode == KILLED
    _recover(rig)
    journal = _journal(rig)
    assert journal[sale["trace"]][1] == "approved" and journal[sale["trace"] + 1][1] == "reversed"
    assert rig.home.ledger.request_by_stan(rig.settings.terminal.terminal_id, sale["trace"]).status is TxnState.APPROVED
    _books_agree(rig)
    assert rig.acquirer_net == 5000


def test_a_refund_killed_before_its_outcome_is_reversed(rig, cfg):
    code, sale = pos_json(cfg, "sale", "80.00")
    assert code == 0
    pos_json(cfg, "settle")
    done = pos(cfg, "refund", str(sale["trace"]), "30.00", env={**SUPERVISOR, "KIOSKPOS_CRASH_AT": "after_response"})
    assert done.returncode == KILLED
    _recover(rig)
    _books_agree(rig)
    assert rig.acquirer_net == 8000
    code, again = pos_json(cfg, "refund", str(sale["trace"]), "80.00", env=SUPERVISOR)
    assert code == 0, again  # the reversed refund left the whole amount refundable
    _books_agree(rig)


def test_a_settlement_killed_after_the_acquirer_closed_the_batch_resumes_once(rig, cfg):
    pos_json(cfg, "sale", "10.00")
    done = pos(cfg, "settle", env={"KIOSKPOS_CRASH_AT": "during_settlement"})
    assert done.returncode == KILLED
    _, status = pos_json(cfg, "status")
    assert status["unfinished_settlement"] == 1 and status["batch"] == 1
    report = _recover(rig)
    assert report["settlement"]["status"] == "settled" and report["settlement"]["matched"] is True
    code, status = pos_json(cfg, "status")
    assert status["batch"] == 2 and status["unfinished_settlement"] is None
    assert rig.home.ledger.closed_batch(rig.settings.terminal.terminal_id) == 1
    code, sale = pos_json(cfg, "sale", "11.00")
    assert code == 0 and sale["batch"] == 2


def test_start_up_alone_resolves_what_a_crash_left(rig, cfg):
    assert pos(cfg, "sale", "12.34", env={"KIOSKPOS_CRASH_AT": "after_response"}).returncode == KILLED
    # No explicit recover: the next transaction's start-up sends the reversal first.
    code, sale = pos_json(cfg, "sale", "20.00")
    assert code == 0 and sale["trace"] == 2
    assert _journal(rig)[1][1] == "reversed"
    _books_agree(rig)
