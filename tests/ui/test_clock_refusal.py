"""A clock set back refuses the sale on screen, in both languages, before any card is asked for."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.bootstrap import build_terminal
from tests.conftest import Rig
from tests.ui.conftest import ui_settings
from tests.ui.driver import Driver


class _Tomorrow:
    """The clock a day ahead: the journal's newest transaction is then a day later than the app's real clock."""

    def now(self) -> datetime:
        return datetime.now().astimezone() + timedelta(days=1)


def test_a_sale_with_the_clock_behind_the_journal_is_refused_in_both_languages(ui_rig: Rig) -> None:
    settings = ui_settings(ui_rig, language="en")
    ahead = build_terminal(settings, clock=_Tomorrow())
    try:
        ahead.sign_in("01", "0000")
        ahead.sale(ui_rig.money("1.00"), ui_rig.card())
    finally:
        ahead.close()
    net = ui_rig.acquirer_net
    ui = Driver(settings)
    try:
        ui.wait_screen("home")
        ui.tap_id("job_sale")
        ui.wait_screen("amount")
        ui.keys("500")
        ui.tap_id("next")
        ui.tap_id("confirm")
        ui.wait_screen("result")
        assert ui.sees("Not completed")
        assert any(t.startswith("The clock says ") and "Set the date and time right" in t for t in ui.texts())
        ui.tap_text("中文")
        ui.wait_text("交易未完成")
        assert any(t.startswith("终端时钟为 ") and "请先校正日期和时间" in t for t in ui.texts())
    finally:
        ui.close()
    assert ui_rig.acquirer_net == net
