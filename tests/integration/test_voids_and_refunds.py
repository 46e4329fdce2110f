"""撤销 and 退货 with the supervisor password: what is allowed, and that every refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.transaction import TxnState
from app.services.errors import PosError
from app.services.results import Status
from app.sim.card_profiles import CARD_PROFILES

SUPERVISOR = "123456"


def _unchanged(terminal, rig, fn, match):
    before = (terminal.status().next_trace, rig.acquirer_net)
    with pytest.raises(PosError, match=match):
        fn()
    assert (terminal.status().next_trace, rig.acquirer_net) == before


def test_a_void_returns_the_whole_amount_and_the_sale_leaves_the_totals(rig, terminal):
    pan = CARD_PROFILES["visa-credit"].pan
    before = rig.balance_of(pan)
    sale = terminal.sale(rig.money("88.00"), rig.card()).record
    void = terminal.void(sale.trace, SUPERVISOR)
    assert void.status is Status.APPROVED
    assert void.record.orig_trace == sale.trace and void.record.amount_minor == 8800
    assert void.record.masked_pan == sale.masked_pan
    assert terminal.get(sale.trace).state is TxnState.VOIDED
    assert rig.balance_of(pan) == before
    assert rig.acquirer_net == 0
    settled = terminal.settle().record
    assert settled.terminal_totals.net_minor == 0 and "sale" not in settled.terminal_totals.by_kind


def test_void_refusals_change_nothing(rig, terminal):
    sale = terminal.sale(rig.money("10.00"), rig.card()).record
    declined = terminal.sale(rig.money("10.05"), rig.card()).record
    _unchanged(terminal, rig, lambda: terminal.void(999, SUPERVISOR), "no transaction with voucher number 000999")
    _unchanged(terminal, rig, lambda: terminal.void(declined.trace, SUPERVISOR), "declined, not approved")
    _unchanged(terminal, rig, lambda: terminal.void(sale.trace, "654321"), "wrong PIN")
    terminal.void(sale.trace, SUPERVISOR)
    _unchanged(terminal, rig, lambda: terminal.void(sale.trace, SUPERVISOR), "voided, not approved")


def test_a_void_of_a_settled_batch_is_refused_with_advice(rig, terminal):
    sale = terminal.sale(rig.money("10.00"), rig.card()).record
    terminal.settle()
    _unchanged(terminal, rig, lambda: terminal.void(sale.trace, SUPERVISOR), "use a refund")


def test_partial_refunds_never_exceed_the_sale(rig, terminal):
    pan = CARD_PROFILES["unionpay-credit"].pan
    sale = terminal.sale(rig.money("100.00"), rig.card("unionpay-credit")).record
    _unchanged(
        terminal,
        rig,
        lambda: terminal.refund(sale.trace, rig.money("10.00"), SUPERVISOR, rig.card("unionpay-credit")),
        "void it instead",
    )
    terminal.settle()
    first = terminal.refund(sale.trace, rig.money("60.00"), SUPERVISOR, rig.card("unionpay-credit"))
    assert first.status is Status.APPROVED and first.record.orig_trace == sale.trace
    _unchanged(
        terminal,
        rig,
        lambda: terminal.refund(sale.trace, rig.money("40.01"), SUPERVISOR, rig.card("unionpay-credit")),
        "at most CNY 40.00",
    )
    second = terminal.refund(sale.trace, rig.money("40.00"), SUPERVISOR, rig.card("unionpay-credit"))
    assert second.status is Status.APPROVED
    assert rig.balance_of(pan) == CARD_PROFILES["unionpay-credit"].balance_minor
    _unchanged(
        terminal,
        rig,
        lambda: terminal.refund(sale.trace, rig.money("0.01"), SUPERVISOR, rig.card("unionpay-credit")),
        "already refunded in full",
    )


def test_a_refund_goes_only_to_the_card_that_paid(rig, terminal):
    sale = terminal.sale(rig.money("50.00"), rig.card("visa-credit")).record
    terminal.settle()
    _unchanged(
        terminal,
        rig,
        lambda: terminal.refund(sale.trace, rig.money("5.00"), SUPERVISOR, rig.card("mastercard-credit")),
        "not the card that paid",
    )


def test_a_refund_outside_the_window_is_refused(rig, terminal):
    sale = terminal.sale(rig.money("50.00"), rig.card()).record
    terminal.settle()

    real_clock = terminal.ctx.clock

    class Later:
        def now(self):
            return real_clock.now() + timedelta(days=181)

    terminal.ctx.clock = Later()
    try:
        _unchanged(
            terminal,
            rig,
            lambda: terminal.refund(sale.trace, rig.money("5.00"), SUPERVISOR, rig.card()),
            "180-day refund window",
        )
    finally:
        terminal.ctx.clock = real_clock


def test_a_refund_of_a_magic_amount_is_declined_with_its_code(rig, terminal):
    sale = terminal.sale(rig.money("50.00"), rig.card()).record
    terminal.settle()
    result = terminal.refund(sale.trace, rig.money("5.51"), SUPERVISOR, rig.card())
    assert result.status is Status.DECLINED and result.record.response_code == "51"


def test_the_supervisor_locks_after_five_wrong_tries_across_a_restart(rig, terminal):
    sale = terminal.sale(rig.money("10.00"), rig.card()).record
    for _ in range(3):
        with pytest.raises(PosError, match="wrong PIN"):
            terminal.void(sale.trace, "000000")
    terminal.close()
    again = rig.terminal()
    for _ in range(2):
        with pytest.raises(PosError, match="wrong PIN"):
            again.void(sale.trace, "000000")
    with pytest.raises(PosError, match="locked"):
        again.void(sale.trace, SUPERVISOR)
    events = [e.event for e in again.ctx.journal.audit.recent()]
    assert "locked_out" in events
    assert again.get(sale.trace).state is TxnState.APPROVED
    again.close()


def test_an_operator_locked_after_five_wrong_pins_stays_locked_until_the_supervisor_resets(rig, terminal):
    terminal.shift.add_operator(SUPERVISOR, "02", "2468")
    for _ in range(5):
        with pytest.raises(PosError):
            terminal.sign_in("02", "1111")
    with pytest.raises(PosError, match="locked"):
        terminal.sign_in("02", "2468")
    terminal.shift.change_pin("02", SUPERVISOR, "1357", by_supervisor=True)
    assert terminal.sign_in("02", "1357") == "02"


def test_operator_management_needs_the_supervisor_and_sane_pins(rig, terminal):
    with pytest.raises(PosError, match="wrong PIN"):
        terminal.shift.add_operator("999999", "03", "1234")
    with pytest.raises(PosError, match="4 to 6 digits"):
        terminal.shift.add_operator(SUPERVISOR, "03", "12")
    with pytest.raises(PosError, match="two digits"):
        terminal.shift.add_operator(SUPERVISOR, "3", "1234")
    assert terminal.ctx.journal.staff.get("03") is None
    terminal.shift.add_operator(SUPERVISOR, "03", "1234")
    terminal.shift.change_pin("03", "1234", "4321", by_supervisor=False)
    terminal.shift.remove_operator(SUPERVISOR, "03")
    assert terminal.ctx.journal.staff.get("03") is None
    events = [e.event for e in terminal.ctx.journal.audit.recent()]
    assert {"operator_added", "pin_changed", "operator_removed", "sign_in"} <= set(events)


def test_the_supervisor_account_cannot_take_sales(rig, terminal):
    with pytest.raises(PosError, match="operator number"):
        terminal.sign_in("00", SUPERVISOR)
