"""Every magic amount, lost and late answers, tampered answers, an acquirer that is down: an unknown outcome
is never approved, and the simulator's ledger always nets to what the terminal believes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.bootstrap import build_terminal
from app.domain.transaction import TxnState
from app.services.errors import PosError
from app.services.results import Status
from app.sim.card_profiles import CARD_PROFILES
from tests.integration.netfaults import AnswerTamperingProxy, change_field, cut_first


@pytest.mark.parametrize("cents", ["05", "51", "54", "55", "61", "91"])
def test_each_magic_decline_comes_back_with_its_code(rig, terminal, cents):
    result = terminal.sale(rig.money(f"10.{cents}"), rig.card("visa-credit"))
    assert result.status is Status.DECLINED
    assert result.record.response_code == cents
    assert result.record.state is TxnState.DECLINED
    assert rig.acquirer_net == 0


def test_a_lost_answer_is_reversed_and_the_ledger_nets_to_zero(rig, terminal):
    pan = CARD_PROFILES["visa-credit"].pan
    result = terminal.sale(rig.money("10.68"), rig.card("visa-credit"))
    assert result.status is Status.UNKNOWN
    assert result.record.state is TxnState.REVERSED
    assert "not charged" in result.message
    assert result.record.auth_code is None, "nothing from the lost answer was taken as approval"
    assert rig.acquirer_net == 0
    assert rig.balance_of(pan) == CARD_PROFILES["visa-credit"].balance_minor
    # The acquirer had approved it; the reversal undid it.
    row = rig.home.ledger.request(result.record.idempotency_key)
    assert row is not None and row.status is TxnState.REVERSED


def test_a_late_answer_is_reversed_too(rig, terminal):
    result = terminal.sale(rig.money("10.98"), rig.card("visa-credit"))
    assert result.status is Status.UNKNOWN
    assert result.record.state is TxnState.REVERSED
    assert rig.acquirer_net == 0


def test_a_lost_void_answer_is_reversed_and_the_sale_stands_on_both_sides(rig):
    _signed_in(rig)
    t = rig.terminal()
    sale = t.sale(rig.money("10.00"), rig.card()).record
    t.close()
    proxy = AnswerTamperingProxy(rig.home.pki, rig.settings, rig.server.port, cut_first(2))
    try:
        t = build_terminal(_via(rig, proxy))
        void = t.void(sale.trace, "123456")
        t.close()
    finally:
        proxy.close()
    assert void.status is Status.UNKNOWN and void.record.state is TxnState.REVERSED
    t = rig.terminal()
    assert t.get(sale.trace).state is TxnState.APPROVED
    t.close()
    assert rig.home.ledger.request(sale.idempotency_key).status is TxnState.APPROVED
    assert rig.acquirer_net == 1000


def test_acquirer_down_leaves_a_pending_reversal_that_blocks_until_delivered(rig, terminal):
    rig.server.stop()
    result = terminal.sale(rig.money("20.00"), rig.card())
    assert result.status is Status.UNKNOWN
    assert result.record.state is TxnState.REVERSAL_PENDING
    assert "pending" in result.message
    with pytest.raises(PosError, match="reversal"):
        terminal.sale(rig.money("21.00"), rig.card())
    with pytest.raises(PosError, match="reversal"):
        terminal.settle()
    assert terminal.get(result.record.trace).reversal_attempts >= 2
    rig.restart_simulator()
    follow_up = terminal.sale(rig.money("22.00"), rig.card())
    assert follow_up.status is Status.APPROVED
    assert terminal.get(result.record.trace).state is TxnState.REVERSED
    assert rig.acquirer_net == 2200


def _via(rig, proxy: AnswerTamperingProxy):
    acquirer = replace(rig.settings.acquirer, url=f"https://127.0.0.1:{proxy.port}")
    return replace(rig.settings, acquirer=acquirer)


def _signed_in(rig) -> None:
    t = rig.terminal()
    t.sign_in("01", "0000")
    t.close()


def test_a_retry_after_a_cut_answer_reuses_the_key_and_charges_once(rig):
    pan = CARD_PROFILES["mastercard-credit"].pan
    _signed_in(rig)
    proxy = AnswerTamperingProxy(rig.home.pki, rig.settings, rig.server.port, cut_first(1))
    try:
        t = build_terminal(_via(rig, proxy))
        result = t.sale(rig.money("40.00"), rig.card("mastercard-credit"))
        t.close()
    finally:
        proxy.close()
    assert proxy.connections == 2, "one cut attempt, one retry"
    assert result.status is Status.APPROVED, result.message
    assert rig.balance_of(pan) == CARD_PROFILES["mastercard-credit"].balance_minor - 4000, "charged once"
    assert rig.acquirer_net == 4000


@pytest.mark.parametrize(
    ("amount", "field", "value"),
    [
        ("41.00", "amount_minor", 1),
        ("41.05", "response_code", "00"),  # a decline dressed up as an approval
        ("41.00", "stan", 999999),
        ("41.00", "mac", "00" * 16),
        ("41.00", "auth_code", "ABCDEF"),
    ],
)
def test_an_altered_answer_is_never_approved_and_is_reversed(rig, amount, field, value):
    _signed_in(rig)
    # Every answer to the sale and its retry is altered; the reversal then goes through the same proxy untouched.
    proxy = AnswerTamperingProxy(rig.home.pki, rig.settings, rig.server.port, change_field(field, value, first=2))
    try:
        t = build_terminal(_via(rig, proxy))
        result = t.sale(rig.money(amount), rig.card("mastercard-credit"))
        t.close()
    finally:
        proxy.close()
    assert result.status is not Status.APPROVED
    if amount.endswith(".05"):
        # The status inquiry proves the acquirer had declined it: nothing to reverse.
        assert result.record.state is TxnState.DECLINED
        assert result.record.reason == "the acquirer had declined it"
    else:
        assert result.status is Status.UNKNOWN and result.record.state is TxnState.REVERSED
        assert "refused" in result.record.reason
    assert rig.acquirer_net == 0
