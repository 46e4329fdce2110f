"""After a clean stop the journal's full check waits for a quiet counter: the engine thread, idle, starts it, and a
damaged verdict then stops sales without any read having met the damage. A real Bridge and a real terminal."""

from __future__ import annotations

from app.bootstrap import build_terminal
from app.services.health import SALES_BLOCKED
from app.ui.bridge import Bridge
from tests.conftest import Rig
from tests.integration.test_journal_check_timing import rot_in_place

CEILING_S = 60.0  # a limit for a slow CI machine; the check starts as soon as the engine has nothing to do


def test_an_idle_engine_runs_the_journal_check(ui_rig: Rig) -> None:
    t = build_terminal(ui_rig.settings)
    t.sign_in("01", "0000")
    assert t.status().sales_blocked is None  # waits for this first start's check: only then does a close vouch
    t.close()  # a clean stop
    rot_in_place(ui_rig.settings.journal_path)
    t = build_terminal(ui_rig.settings)
    assert not t.journal_check_started.is_set(), "after a clean stop the start does not read the whole journal"
    bridge = Bridge(lambda: t, idle_s=0.01)  # the engine's worker owns (and at stop closes) the terminal
    bridge.start()
    try:
        assert t.journal_check_started.wait(CEILING_S), "the idle engine started no check"
        assert t.journal_verdict() is not None
        assert t.sales_blocked() == SALES_BLOCKED
    finally:
        bridge.stop()
