"""结算 and 交易查询/重打印 by touch: the totals before and after, "matched", the slips as printed (demo mode's
pictures), and finding a transaction by voucher number or amount in today's batch or an earlier one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Rig
from tests.ui.driver import Driver
from tests.ui.flow import engine
from tests.ui.office import home_to, signed_in


@pytest.fixture
def office(ui_rig: Rig) -> Iterator[Driver]:
    ui = signed_in(ui_rig)
    yield ui
    ui.close()


def picture(ui: Driver) -> Path:
    path = Path(ui.find("slip").source)
    assert path.suffix == ".png" and path.is_file(), path
    return path


def test_settlement_by_touch_shows_the_totals_matched_and_the_slip(office: Driver, ui_rig: Rig) -> None:
    ui = office
    engine(ui, lambda t: t.sale(ui_rig.money("88.00"), ui_rig.card("visa-credit")))
    engine(ui, lambda t: t.sale(ui_rig.money("12.34"), ui_rig.card("unionpay-credit")))
    engine(ui, lambda t: t.sale(ui_rig.money("10.05"), ui_rig.card()))  # declined: in no total
    home_to(ui, "job_settle", "settlement")
    ui.wait_text("2 transaction(s) · net CNY 100.34")
    assert ui.sees("Open batch 000001") and ui.sees("×2  100.34")

    ui.tap_id("settle")
    ui.wait_for(lambda: ui.screen.phase == "after", "the settlement's result")
    assert ui.sees("Batch 000001 settled")
    assert ui.sees("Matched: the totals agree with the acquirer")
    for shown in ("Sale", "×2  100.34", "Visa credit", "×1  88.00", "UnionPay credit", "×1  12.34"):
        assert ui.sees(shown), shown
    assert picture(ui).name == "settlement-000001.png"
    assert ui.app.batch == "000002"

    record = engine(ui, lambda t: t.settlement_record(1))
    assert record.matched is True and record.terminal_totals.net_minor == 10034
    assert ui_rig.acquirer_net == 10034

    ui.tap_id("detail")
    ui.wait_for(lambda: ui.find("slip").source.endswith("detail-000001.png"), "the detail slip")
    assert picture(ui).stat().st_size > 0
    ui.tap_id("reprint")
    ui.wait_for(lambda: ui.find("slip").source.endswith("settlement-000001.png"), "the reprinted slip")
    ui.tap_id("done")
    ui.wait_screen("home")


def test_a_settlement_result_handed_over_is_shown_at_once(office: Driver, ui_rig: Rig) -> None:
    """What the banner's resolver does after finishing an interrupted settlement."""
    ui = office
    engine(ui, lambda t: t.sale(ui_rig.money("50.00"), ui_rig.card()))
    result = engine(ui, lambda t: t.settle())
    ui.app.go("settlement", result=result)
    ui.wait_screen("settlement")
    assert ui.screen.phase == "after"
    assert ui.sees("Batch 000001 settled") and ui.sees("Matched") and ui.sees("×1  50.00")
    assert picture(ui).name == "settlement-000001.png"


def test_settling_twice_in_a_row_settles_an_empty_batch_and_says_so(office: Driver) -> None:
    ui = office
    home_to(ui, "job_settle", "settlement")
    ui.wait_text("0 transaction(s) · net CNY 0.00")
    ui.tap_id("settle")
    ui.wait_for(lambda: ui.screen.phase == "after", "the settlement's result")
    assert ui.sees("Batch 000001 settled") and ui.sees("Matched")


def test_history_finds_by_voucher_and_amount_across_batches_and_reprints_a_duplicate(
    office: Driver, ui_rig: Rig
) -> None:
    ui = office
    first = engine(ui, lambda t: t.sale(ui_rig.money("12.34"), ui_rig.card())).record
    engine(ui, lambda t: t.sale(ui_rig.money("56.78"), ui_rig.card("unionpay-credit")))
    engine(ui, lambda t: t.settle())
    today = engine(ui, lambda t: t.sale(ui_rig.money("7.00"), ui_rig.card())).record

    home_to(ui, "job_history", "history")
    ui.wait_text("Batch 000002 · today, open")
    ui.wait_text("CNY 7.00")
    assert not ui.sees("CNY 12.34")
    ui.tap_id("earlier")
    ui.wait_text("Batch 000001 · settled")
    ui.wait_text("CNY 12.34")
    assert ui.sees("CNY 56.78") and not ui.sees("CNY 7.00")

    ui.tap_id("by_voucher")
    ui.keys("99")
    ui.tap_id("run_search")
    ui.wait_text("no transaction with voucher number 000099")
    assert ui.screen.mode == "search"
    ui.tap(next(b for b in ui.find("keypad").children if b.key == "clear"))
    ui.keys(str(first.trace))
    ui.tap_id("run_search")
    ui.wait_for(lambda: ui.screen.mode == "detail", "the transaction in detail")
    assert ui.sees(f"Voucher {first.trace:06d}") and ui.sees("CNY 12.34") and ui.sees("476173******0010")

    next_trace = engine(ui, lambda t: t.status().next_trace)
    ui.tap_id("reprint")
    ui.wait_for(lambda: ui.find("slip").source, "the reprint's picture")
    assert picture(ui).name.endswith("-dup.png")  # the engine marks a reprint DUPLICATE
    assert not ui.screen.printer_error
    assert ui.current == "history"

    ui.tap_id("to_list")
    ui.tap_id("by_amount")
    ui.keys("700")
    assert ui.find("query").shown == "7.00"
    ui.tap_id("run_search")
    ui.wait_text("Amount CNY 7.00: 1 found in all batches")
    assert ui.sees(f"{today.trace:06d}")
    assert engine(ui, lambda t: t.status().next_trace) == next_trace  # a reprint is no transaction
    assert ui_rig.acquirer_net == 1234 + 5678 + 700
