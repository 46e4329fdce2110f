"""A sale cut off by a crash (the real `pos` process killed after the acquirer answered, before the outcome was
written) is reversed when the app starts; when the acquirer cannot be reached then, it stays as a banner on every
screen, and the banner's one button sends the reversal once the line is back: nothing charged, nothing lost."""

from __future__ import annotations

import signal

from app.domain.transaction import TxnState
from tests.conftest import Rig
from tests.integration.cli_rig import pos, pos_json
from tests.ui.conftest import ui_settings
from tests.ui.driver import Driver
from tests.ui.flow import engine


def crash_a_sale_after_the_answer(rig: Rig, amount: str = "12.34") -> None:
    """The CLI signs operator 01 in and its sale is killed between the acquirer's approval and the journal."""
    config = rig.home.terminal_config
    code, report = pos_json(config, "signin", "--operator", "01", env={"POS_PIN": "0000"})
    assert code == 0, report
    done = pos(config, "sale", amount, env={"KIOSKPOS_CRASH_AT": "after_response"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert rig.acquirer_net != 0  # the acquirer has the charge; the terminal does not know it


def test_a_sale_cut_off_by_a_crash_shows_a_banner_whose_one_button_reverses_it(ui_rig: Rig) -> None:
    crash_a_sale_after_the_answer(ui_rig)
    ui_rig.server.stop()  # the line is down when the app starts: its own recovery cannot reach the acquirer
    ui = Driver(ui_settings(ui_rig, language="en"))
    try:
        ui.wait_screen("home")  # the CLI's sign-in holds: the terminal is signed in, whoever signed it in
        banner = "1 transaction(s) wait for a reversal: touch to send it now"
        ui.wait_text(banner)
        ui.tap_text("wait for a reversal")
        ui.wait_screen("message")
        assert ui.sees("1 reversal(s) could not be sent yet. The terminal keeps trying; nothing was charged twice.")
        ui.tap_id("ok")
        ui.wait_screen("home")
        assert ui.sees(banner)

        ui_rig.restart_simulator()
        ui.tap_text("wait for a reversal")
        ui.wait_screen("message")
        assert ui.sees("Everything is resolved.")
        assert ui_rig.acquirer_net == 0
        [sale] = engine(ui, lambda t: t.find())
        assert sale.state is TxnState.REVERSED
        ui.tap_id("ok")
        ui.wait_screen("home")
        ui.wait_for(lambda: not ui.sees(banner), "the banner gone")
    finally:
        ui.close()
