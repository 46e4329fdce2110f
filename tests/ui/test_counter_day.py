"""A whole counter day by touch, as a new cashier would do it with the demo drawer: sign in, a chip sale with the
PIN, a tap, a swipe, a decline, a lost answer, a void, settlement, a refund of yesterday's sale, settlement again,
sign out. At every screen the app shows, no widget of any screen holds more than first 6 / last 4 of a card."""

from __future__ import annotations

import pytest
from kivy.uix.label import Label

from app.domain.transaction import TxnKind, TxnState
from tests.conftest import Rig
from tests.ui.card_numbers import assert_no_card_number_on_screen, card_numbers_in
from tests.ui.driver import Driver
from tests.ui.flow import engine, enter_pin, pan_of, present, print_customer_copy, start_sale
from tests.ui.office import SUPERVISOR, home_to, wait_any
from tests.ui.test_sign_in import sign_in


class ScreenWatch:
    """Reads every widget after each screen change; a full card number anywhere fails the test there."""

    def __init__(self, ui: Driver) -> None:
        self.ui = ui
        self.screens: list[str] = []
        self.texts_read = 0
        ui.app.manager.bind(current=self._changed)

    def _changed(self, _manager: object, name: str) -> None:
        self.screens.append(name)
        self.ui.idle()  # the new screen laid out and its labels filled
        self.texts_read += assert_no_card_number_on_screen()


def sale(ui: Driver, digits: str, card: str, way: str, pin: str | None = None) -> str:
    start_sale(ui, digits)
    present(ui, card, way)
    if pin is not None:
        enter_pin(ui, pin)
    if wait_any(ui, "tear", "result") == "tear":
        print_customer_copy(ui)
    ui.wait_screen("result")
    return headline(ui)


def headline(ui: Driver) -> str:
    """The result's English line; the Chinese one under it is checked by the bilingual tests."""
    return str(ui.find("headline").text).split("\n")[0]


def test_a_new_cashier_does_the_whole_day_by_touch(ui: Driver, ui_rig: Rig) -> None:
    watch = ScreenWatch(ui)
    sign_in(ui)
    ui.wait_screen("home")

    assert sale(ui, "12345", "mastercard-dda", "insert", pin="1234") == "APPROVED"
    assert ui.sees("541333******0019")
    chip_trace = ui.screen._result.record.trace
    ui.tap_id("done")
    assert sale(ui, "3800", "visa-contactless", "tap") == "APPROVED"
    ui.tap_id("done")
    assert sale(ui, "2500", "magstripe-visa", "swipe") == "APPROVED"
    ui.tap_id("done")

    assert sale(ui, "1051", "visa-cda", "insert") == "DECLINED"
    assert ui.sees("Insufficient funds")
    ui.tap_id("done")
    lost = sale(ui, "1068", "visa-cda", "insert")
    assert lost != "APPROVED" and ui.sees("reversal")
    ui.tap_id("done")
    assert ui_rig.acquirer_net == 12345 + 3800 + 2500

    # 撤销: the contactless sale, found in today's list.
    home_to(ui, "job_void", "void")
    ui.wait_for(lambda: ui.screen.records, "today's sales listed")
    tap_trace = next(r.trace for r in ui.screen.records if r.amount_minor == 3800)
    ui.keys(str(tap_trace))
    ui.tap_id("find")
    ui.wait_for(lambda: ui.screen.step == "confirm", "the original shown")
    ui.keys(SUPERVISOR)
    ui.tap_id("confirm")
    if wait_any(ui, "tear", "result") == "tear":
        print_customer_copy(ui)
    ui.wait_screen("result")
    assert headline(ui) == "APPROVED"
    ui.tap_id("done")
    assert ui_rig.acquirer_net == 12345 + 2500

    # 结算: the day closes.
    home_to(ui, "job_settle", "settlement")
    ui.tap_id("settle")
    ui.wait_for(lambda: ui.screen.phase == "after", "the settlement's result")
    assert ui.sees("Batch 000001 settled") and ui.sees("Matched: the totals agree with the acquirer")
    ui.tap_id("done")
    ui.wait_screen("home")
    assert ui.app.batch == "000002"

    # 退货: part of yesterday's chip sale back to the same card.
    balance = ui_rig.balance_of(pan_of("mastercard-dda"))
    home_to(ui, "job_refund", "refund")
    ui.keys(str(chip_trace))
    ui.tap_id("find")
    ui.wait_for(lambda: ui.screen.step == "confirm", "the original shown")
    assert ui.sees("Left to refund: CNY 123.45")
    ui.keys(SUPERVISOR)
    ui.tap_id("confirm")
    ui.wait_screen("amount")
    ui.keys("2345")
    ui.tap_id("next")
    ui.tap_id("confirm")
    present(ui, "mastercard-dda", "insert")
    if wait_any(ui, "pin", "tear", "result") == "pin":
        enter_pin(ui, "1234")
    if wait_any(ui, "tear", "result") == "tear":
        print_customer_copy(ui)
    ui.wait_screen("result")
    assert headline(ui) == "APPROVED"
    ui.tap_id("done")
    assert ui_rig.balance_of(pan_of("mastercard-dda")) == balance + 2345

    home_to(ui, "job_settle", "settlement")
    ui.tap_id("settle")
    ui.wait_for(lambda: ui.screen.phase == "after", "the second settlement")
    assert ui.sees("Batch 000002 settled")
    ui.tap_id("done")
    ui.wait_screen("home")
    ui.tap_id("job_sign_out")
    ui.wait_screen("signin")

    journal = engine(ui, lambda t: t.find(limit=100))
    states = {(r.kind, r.state) for r in journal}
    assert (TxnKind.VOID, TxnState.APPROVED) in states and (TxnKind.REFUND, TxnState.APPROVED) in states
    assert (TxnKind.SALE, TxnState.REVERSED) in states, "the lost answer was reversed, not left in the air"
    assert ui_rig.acquirer_net == 12345 + 2500 - 2345
    # The watch really read the screens: every kind of screen of the day, and thousands of texts.
    assert {"signin", "home", "amount", "present", "pin", "result", "void", "settlement", "refund"} <= set(
        watch.screens
    )
    assert watch.texts_read > 1000


def test_the_card_number_check_finds_a_full_number_and_lets_a_masked_one_pass() -> None:
    assert card_numbers_in(f"Card {pan_of('mastercard-dda')}") == [pan_of("mastercard-dda")]
    assert card_numbers_in("4000 0000 0000 0002") == ["4000000000000002"]  # unknown, but a card number
    assert card_numbers_in("541333******0019 voucher 000123 auth 123456 ref 507314123456") == []


def test_the_screen_walk_catches_a_full_number_even_on_a_screen_not_on_show(ui: Driver) -> None:
    ui.wait_screen("signin")
    hidden = ui.app.screen("history")
    hidden.add_widget(Label(text=f"card {pan_of('visa-cda')}"))
    with pytest.raises(AssertionError, match="shows a full card number"):
        assert_no_card_number_on_screen()
