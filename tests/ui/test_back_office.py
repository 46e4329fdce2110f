"""撤销, 退货 and 预授权完成 by touch, through the real app, engine, simulator and journal.

The transactions acted on are made through the app's own engine (it owns the journal), except in the first test,
where the sale itself is made by touch too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.domain.transaction import TxnKind, TxnState
from app.sim.card_profiles import CARD_PROFILES
from app.sim.emulator.profiles import EMULATED_CARDS
from tests.conftest import Rig
from tests.ui.conftest import ui_settings
from tests.ui.driver import Driver
from tests.ui.flow import engine, present
from tests.ui.office import SUPERVISOR, drawer_sale, home_to, signed_in, wait_any
from tests.ui.test_sign_in import sign_in


@pytest.fixture
def office(ui_rig: Rig) -> Iterator[Driver]:
    ui = signed_in(ui_rig)
    yield ui
    ui.close()


@pytest.fixture
def counter(ui_rig: Rig) -> Iterator[Driver]:
    """The app as configured for the counter: it asks to tear off the merchant copy before the customer's."""
    ui = Driver(ui_settings(ui_rig, language="en"))
    yield ui
    ui.close()


def test_a_sale_made_by_touch_is_voided_by_touch(counter: Driver, ui_rig: Rig) -> None:
    ui = counter
    pan = EMULATED_CARDS["visa-cda"].apps[0].pan
    before = ui_rig.balance_of(pan)
    sign_in(ui)
    home_to(ui, "job_sale", "amount")
    ui.keys("8800")
    ui.tap_id("next")
    ui.tap_id("confirm")
    present(ui, "visa-cda", "insert")  # signature card: no PIN
    ui.wait_screen("tear")
    ui.tap_id("print_next")
    ui.wait_screen("result")
    assert ui.sees("APPROVED")
    ui.tap_id("done")

    home_to(ui, "job_void", "void")
    ui.wait_for(lambda: ui.screen.records, "today's sales listed")
    assert ui.sees("CNY 88.00")
    ui.tap(ui.find("records").ids.rows.children[0])  # the one sale, newest first
    ui.wait_for(lambda: ui.screen.step == "confirm", "the original shown")
    assert ui.sees("CNY 88.00") and ui.sees("476173******0019") and ui.sees("Void CNY 88.00")
    sale = ui.screen.original
    ui.keys(SUPERVISOR)
    assert ui.find("password").shown == "●" * 6
    ui.tap_id("confirm")
    if wait_any(ui, "tear", "result") == "tear":
        ui.tap_id("print_next")
    ui.wait_screen("result")
    assert ui.sees("APPROVED") and ui.sees(f"{sale.trace + 1:06d}")

    voided = engine(ui, lambda t: t.get(sale.trace))
    void = engine(ui, lambda t: t.get(sale.trace + 1))
    assert voided.state is TxnState.VOIDED
    assert (void.kind, void.state, void.orig_trace, void.amount_minor) == (
        TxnKind.VOID,
        TxnState.APPROVED,
        sale.trace,
        8800,
    )
    assert ui_rig.balance_of(pan) == before and ui_rig.acquirer_net == 0


def test_a_wrong_supervisor_password_is_one_line_and_changes_nothing(office: Driver, ui_rig: Rig) -> None:
    ui = office
    sale = engine(ui, lambda t: t.sale(ui_rig.money("25.00"), ui_rig.card())).record
    next_trace = engine(ui, lambda t: t.status().next_trace)
    home_to(ui, "job_void", "void")
    ui.keys(str(sale.trace))
    ui.tap_id("find")
    ui.wait_for(lambda: ui.screen.step == "confirm", "the original shown")
    ui.keys("654321")
    ui.tap_id("confirm")
    ui.wait_for(lambda: ui.screen.notice, "the refusal")
    notice = ui.screen.notice
    assert "wrong PIN for the supervisor password" in notice and "\n" not in notice
    assert ui.sees(notice) and ui.current == "void"
    assert ui.find("password").value == ""  # typed again, never kept
    assert engine(ui, lambda t: t.get(sale.trace)).state is TxnState.APPROVED
    assert engine(ui, lambda t: t.status().next_trace) == next_trace
    assert ui_rig.acquirer_net == 2500


def test_the_void_screen_refuses_an_unknown_a_voided_and_a_settled_voucher(office: Driver, ui_rig: Rig) -> None:
    ui = office
    settled = engine(ui, lambda t: t.sale(ui_rig.money("10.00"), ui_rig.card())).record
    engine(ui, lambda t: t.settle())
    today = engine(ui, lambda t: t.sale(ui_rig.money("20.00"), ui_rig.card())).record
    engine(ui, lambda t: t.void(today.trace, SUPERVISOR))
    net = ui_rig.acquirer_net

    home_to(ui, "job_void", "void")
    ui.keys("999")
    ui.tap_id("find")
    ui.wait_text("no transaction with voucher number 000999")
    assert ui.current == "void" and ui.screen.step == "find"

    for trace, why in ((today.trace, "voided, not approved"), (settled.trace, "use a refund")):
        ui.tap(next(b for b in ui.find("keypad").children if b.key == "clear"))
        ui.keys(str(trace))
        ui.tap_id("find")
        ui.wait_for(lambda: ui.screen.step == "confirm", "the original shown")
        ui.keys(SUPERVISOR)
        ui.tap_id("confirm")
        ui.wait_text(why)
        ui.tap_id("back")
        ui.wait_for(lambda: ui.screen.step == "find", "back to the list")
    assert ui_rig.acquirer_net == net


def test_a_refund_of_a_settled_sale_by_touch_is_capped_at_what_is_left(office: Driver, ui_rig: Rig) -> None:
    ui = office
    pan = EMULATED_CARDS["visa-cda"].apps[0].pan
    sale = drawer_sale(ui, ui_rig, "100.00", "visa-cda").record
    home_to(ui, "job_refund", "refund")
    ui.keys(str(sale.trace))
    ui.tap_id("find")
    ui.wait_text("void it instead")  # today's sale: refused before the card comes out
    assert ui.screen.step == "find"
    ui.tap_id("cancel")

    engine(ui, lambda t: t.settle())  # closes the batch: the sale is now an earlier day's
    after_sale = ui_rig.balance_of(pan)
    home_to(ui, "job_refund", "refund")
    ui.wait_for(lambda: ui.screen.records, "recent sales listed")
    ui.keys(str(sale.trace))
    ui.tap_id("find")
    ui.wait_for(lambda: ui.screen.step == "confirm", "the original shown")
    assert ui.sees("Left to refund: CNY 100.00") and ui.sees("476173******0019")
    ui.keys("111111")
    ui.tap_id("confirm")
    ui.wait_text("wrong PIN for the supervisor password")
    assert ui.current == "refund"  # refused before the amount and the card
    ui.keys(SUPERVISOR)
    ui.tap_id("confirm")

    ui.wait_screen("amount")
    assert ui.sees("at most CNY 100.00")
    ui.keys("10001")
    assert ui.sees("At most 100.00 here.")
    ui.keys("00")  # 1000.0 was refused; 100.00 stands
    ui.tap(next(b for b in ui.find("keypad").children if b.key == "clear"))
    ui.keys("6000")
    ui.tap_id("next")
    ui.tap_id("confirm")
    present(ui, "visa-cda", "insert")
    ui.wait_screen("result")
    assert ui.sees("APPROVED")

    refund = engine(ui, lambda t: t.find(kind=TxnKind.REFUND))[0]
    assert (refund.state, refund.orig_trace, refund.amount_minor) == (TxnState.APPROVED, sale.trace, 6000)
    assert ui_rig.balance_of(pan) == after_sale + 6000
    assert engine(ui, lambda t: t.refund_left(sale.trace)) == ui_rig.money("40.00")


def test_a_preauth_is_completed_by_touch_for_less_than_the_hold(office: Driver, ui_rig: Rig) -> None:
    ui = office
    pan = CARD_PROFILES["visa-credit"].pan
    balance = ui_rig.balance_of(pan)
    preauth = engine(ui, lambda t: t.preauth(ui_rig.money("500.00"), ui_rig.card())).record
    assert ui_rig.hold_of(pan) == 50000
    home_to(ui, "job_preauth", "preauth")
    ui.tap_id("complete")
    ui.wait_screen("preauth_complete")
    ui.wait_for(lambda: ui.screen.records, "open pre-auths listed")
    ui.tap(ui.find("records").ids.rows.children[0])
    ui.wait_for(lambda: ui.screen.step == "confirm", "the pre-auth shown")
    assert ui.sees("CNY 500.00") and ui.sees("Pre-auth")
    ui.tap_id("confirm")
    ui.wait_screen("amount")
    assert ui.sees("at most CNY 500.00")
    ui.keys("42000")
    ui.tap_id("next")
    ui.tap_id("confirm")
    ui.wait_screen("result")
    assert ui.sees("APPROVED") and ui.sees("420.00")

    assert engine(ui, lambda t: t.get(preauth.trace)).state is TxnState.COMPLETED
    completion = engine(ui, lambda t: t.find(kind=TxnKind.COMPLETION))[0]
    assert (completion.orig_trace, completion.amount_minor) == (preauth.trace, 42000)
    assert ui_rig.hold_of(pan) == 0 and ui_rig.balance_of(pan) == balance - 42000


def test_a_preauth_is_released_by_touch_with_the_supervisor_password(office: Driver, ui_rig: Rig) -> None:
    ui = office
    pan = CARD_PROFILES["visa-credit"].pan
    preauth = engine(ui, lambda t: t.preauth(ui_rig.money("300.00"), ui_rig.card())).record
    home_to(ui, "job_preauth", "preauth")
    ui.tap_id("release")
    ui.wait_screen("preauth_void")
    ui.keys(str(preauth.trace))
    ui.tap_id("find")
    ui.wait_for(lambda: ui.screen.step == "confirm", "the pre-auth shown")
    ui.keys(SUPERVISOR)
    ui.tap_id("confirm")
    ui.wait_screen("result")
    assert ui.sees("APPROVED")
    assert engine(ui, lambda t: t.get(preauth.trace)).state is TxnState.VOIDED
    assert ui_rig.hold_of(pan) == 0
