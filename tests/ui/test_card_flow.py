"""消费 by touch, start to finish: the card from the demo drawer, the PIN on the touch keypad, the acquirer
simulator's real answer, the slips, and what the cashier reads on the result screen.

Where money is at stake the acquirer's own books are checked too, not only the words on screen.
"""

from __future__ import annotations

from pathlib import Path

from app.domain.transaction import TxnState
from app.sim.card_profiles import CARD_PROFILES
from tests.conftest import Rig
from tests.ui.driver import Driver
from tests.ui.flow import Visits, engine, enter_pin, pan_of, present, print_customer_copy, signed_in, start_sale


def test_chip_sale_with_online_pin_typed_on_the_touch_keypad_shows_only_dots(ui: Driver, ui_rig: Rig) -> None:
    signed_in(ui)
    pan = pan_of("mastercard-dda")
    before = ui_rig.balance_of(pan)
    start_sale(ui, "12345")
    assert ui.sees("123.45") and ui.sees("Insert, tap or swipe the card")
    present(ui, "mastercard-dda", "insert")

    ui.wait_screen("pin")
    assert ui.sees("CNY 123.45")
    assert ui.sees("not a certified PIN pad")  # touch_pin_approved is off: say what this keypad is
    assert not any("no pin" in t.lower() or "bypass" in t.lower() for t in ui.texts())
    ui.keys("1234")
    assert ui.find("pin").shown == "●●●●"
    assert not any("1234" in t for t in ui.texts())  # the digits are in no label on screen
    pin_screen = ui.screen
    ui.tap_id("enter")
    assert ui.find("pin", pin_screen).value == ""  # cleared the moment they were handed over

    print_customer_copy(ui)
    ui.wait_screen("result")
    assert ui.sees("APPROVED")
    assert ui.sees("CNY 123.45") and ui.sees("541333******0019")
    record = ui.screen._result.record
    assert record.state is TxnState.APPROVED and record.cvm == "online_pin"
    assert ui.sees(f"{record.trace:06d}") and ui.sees(record.auth_code)
    assert ui_rig.balance_of(pan) == before - 12345
    assert ui_rig.acquirer_net == 12345

    ui.tap_id("done")
    ui.wait_screen("home")


def test_contactless_under_the_cvm_limit_needs_no_pin_and_the_stripe_card_is_swiped(ui: Driver, ui_rig: Rig) -> None:
    signed_in(ui)
    visits = Visits(ui)
    start_sale(ui, "8800")  # CNY 88.00, far under the reader's CVM limit
    present(ui, "visa-contactless", "tap")
    print_customer_copy(ui)
    ui.wait_screen("result")
    assert ui.sees("APPROVED") and ui.sees("476173******0014")
    assert ui.screen._result.record.entry_mode == "contactless"
    assert "pin" not in visits.names
    ui.tap_id("done")

    start_sale(ui, "6600")
    present(ui, "magstripe-visa", "swipe")
    print_customer_copy(ui)
    ui.wait_screen("result")
    stripe = CARD_PROFILES["magstripe-visa"].pan
    assert ui.sees("APPROVED") and ui.sees(f"{stripe[:6]}******{stripe[-4:]}")
    assert ui.screen._result.record.entry_mode == "swipe"
    assert "pin" not in visits.names
    assert ui_rig.acquirer_net == 8800 + 6600


def test_a_magic_decline_says_insufficient_funds_in_both_languages_and_offers_another_try(
    ui: Driver, ui_rig: Rig
) -> None:
    signed_in(ui)
    start_sale(ui, "1251")
    present(ui, "visa-contactless", "tap")
    ui.wait_screen("result")
    assert ui.sees("DECLINED") and ui.sees("Insufficient funds (51)")
    assert ui.sees("Ask for another card or a smaller amount.")
    assert not any("APPROVED" in t for t in ui.texts())
    assert len(ui.screen._result.slips) == 1  # one "not a receipt" slip, no customer copy to tear off for
    assert ui_rig.acquirer_net == 0

    ui.tap_text("中文")
    ui.wait_text("交易失败")
    assert ui.sees("余额不足") and ui.sees("请换一张卡或减少金额。")
    ui.tap_text("English")

    ui.tap_id("retry")
    ui.wait_screen("amount")
    assert ui.sees("Sale") and ui.screen.shown == "0.00"  # the same job, a fresh amount


def test_a_lost_answer_ends_result_unknown_with_the_reversal_sent_and_nothing_charged(ui: Driver, ui_rig: Rig) -> None:
    signed_in(ui)
    pan = pan_of("visa-contactless")
    before = ui_rig.balance_of(pan)
    seen: list[str] = []
    ui.app.manager.bind(current=lambda *_a: seen.extend(ui.texts()))
    start_sale(ui, "2068")
    present(ui, "visa-contactless", "tap")
    ui.wait_screen("result")
    seen += ui.texts()
    assert ui.sees("Result unknown — reversal sent, nothing was charged")
    assert not any("APPROVED" in t for t in seen)
    record = ui.screen._result.record
    assert record.state is TxnState.REVERSED
    assert ui_rig.acquirer_net == 0
    assert ui_rig.balance_of(pan) == before
    # And the journal agrees: nothing waits for a reversal.
    assert engine(ui, lambda t: t.status()).in_flight == ()


def test_cancel_before_any_card_sends_nothing(ui: Driver, ui_rig: Rig) -> None:
    signed_in(ui)
    before = engine(ui, lambda t: t.status())
    start_sale(ui, "5000")
    ui.tap_id("cancel")
    ui.wait_screen("result")
    assert ui.sees("Cancelled — nothing was charged")
    assert engine(ui, lambda t: t.find()) == []  # no intent was ever written
    after = engine(ui, lambda t: t.status())
    assert after.next_trace == before.next_trace and after.in_flight == ()
    assert ui_rig.acquirer_net == 0


def test_cancel_once_the_request_is_sent_waits_for_the_engine_and_never_says_cancelled(ui: Driver, ui_rig: Rig) -> None:
    signed_in(ui)
    start_sale(ui, "2168")  # .68: the acquirer approves, the answer is lost, the terminal reverses
    present(ui, "visa-contactless", "tap")
    ui.wait_for(lambda: ui.screen.sent, "the request on its way")
    ui.tap_id("cancel")
    assert ui.sees("Already sent: waiting for the answer")
    ui.wait_screen("result")
    assert ui.sees("Result unknown — reversal sent, nothing was charged")
    assert not ui.sees("Cancelled")
    assert ui_rig.acquirer_net == 0


def test_cancel_on_the_pin_screen_stops_the_sale_rather_than_skipping_to_a_signature(ui: Driver, ui_rig: Rig) -> None:
    # mastercard-dda's CVM list says "online PIN, else signature": a PIN left unentered must not become a
    # signature sale; the cardholder's Cancel cancels.
    signed_in(ui)
    start_sale(ui, "7000")
    present(ui, "mastercard-dda", "insert")
    ui.wait_screen("pin")
    ui.keys("12")
    ui.tap_id("cancel")
    ui.wait_screen("result")
    assert ui.sees("Cancelled — nothing was charged")
    assert engine(ui, lambda t: t.find()) == []
    assert ui_rig.acquirer_net == 0


def test_a_card_with_two_applications_lets_the_cardholder_choose(ui: Driver, ui_rig: Rig) -> None:
    signed_in(ui)
    debit, credit = pan_of("unionpay-two-apps", 0), pan_of("unionpay-two-apps", 1)
    debit_before, credit_before = ui_rig.balance_of(debit), ui_rig.balance_of(credit)
    start_sale(ui, "3000")
    present(ui, "unionpay-two-apps", "insert")
    ui.wait_screen("choose_app")
    buttons = sorted(ui.find("apps").children, key=lambda b: -b.y)  # top to bottom
    assert [b.text.split("\n")[0] for b in buttons] == ["UnionPay Credit", "UnionPay Debit"]  # card's priority
    ui.tap_text("UnionPay Debit")
    enter_pin(ui, "123456")
    print_customer_copy(ui)
    ui.wait_screen("result")
    assert ui.sees("APPROVED") and ui.sees(f"{debit[:6]}******{debit[-4:]}")
    assert ui_rig.balance_of(debit) == debit_before - 3000
    assert ui_rig.balance_of(credit) == credit_before


def test_the_tear_screen_comes_between_the_copies_and_both_slips_are_printed(ui: Driver) -> None:
    signed_in(ui)
    start_sale(ui, "4500")
    present(ui, "visa-contactless", "tap")
    ui.wait_screen("tear")
    assert ui.sees("Merchant copy printed — tear it off, then press to print the customer copy")
    merchant = Path(ui.find("slip").source)
    assert merchant.name.endswith("merchant.png") and merchant.is_file()
    ui.tap_id("print_next")
    ui.wait_screen("result")
    slips = [Path(s) for s in ui.screen._result.slips]
    assert slips[0] == merchant and slips[1].name.endswith("customer.png")
    assert all(s.is_file() for s in slips)
    assert Path(ui.find("slip").source) == slips[1]  # the customer copy, on screen


def test_a_copy_not_printed_is_named_and_reprinted_from_the_result_screen(ui: Driver) -> None:
    signed_in(ui)
    start_sale(ui, "4600")
    present(ui, "visa-contactless", "tap")
    ui.wait_screen("tear")
    ui.tap_id("not_now")
    ui.wait_screen("result")
    assert ui.sees("APPROVED")  # the printer never changes the outcome
    assert ui.sees("Printer: the customer copy was not printed: reprint it")
    ui.tap_id("reprint")
    print_customer_copy(ui)  # a reprint is two copies again, with the tear between
    ui.wait_for(lambda: ui.current == "result" and not ui.screen.reprinting, "the reprint's result")
    assert not ui.sees("Printer:")
    customer = Path(ui.find("slip").source)
    assert customer.name.endswith(".png") and customer.is_file() and "customer" in customer.name


def test_a_balance_inquiry_asks_for_the_pin_and_shows_the_balance(ui: Driver) -> None:
    signed_in(ui)
    ui.tap_id("job_balance")
    ui.wait_screen("present")
    present(ui, "unionpay-nopse", "insert")
    enter_pin(ui, "123456")
    ui.wait_screen("result")
    assert ui.sees("Available balance") and ui.sees("CNY 1,000.00")
