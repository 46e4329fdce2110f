"""A counter screen nobody can leave, that dims when nobody uses it and locks when the cashier walks away."""

from __future__ import annotations

from pathlib import Path

from kivy.base import EventLoop
from kivy.core.window import Window

from tests.conftest import Rig
from tests.ui.conftest import ui_settings
from tests.ui.driver import Driver
from tests.ui.flow import engine
from tests.ui.test_sign_in import sign_in

ESC, F1, F11 = 27, 282, 292


def test_escape_the_function_keys_and_close_requests_go_nowhere_in_kiosk_mode(ui_rig: Rig) -> None:
    ui = Driver(ui_settings(ui_rig, language="en", kiosk=True))
    try:
        ui.wait_screen("signin")
        running = EventLoop.status
        for key in (ESC, F1, F11):
            assert Window.dispatch("on_keyboard", key, 0, None, []) is True, f"key {key} went past the app"
        assert Window.dispatch("on_request_close") is True  # Alt+F4, the window manager's close
        assert ui.app.open_settings() is False  # Kivy's settings panel
        ui.idle(3)
        assert ui.current == "signin" and EventLoop.status == running != "stopped"
    finally:
        ui.close()


def test_outside_kiosk_mode_the_window_can_be_closed(ui_rig: Rig) -> None:
    ui = Driver(ui_settings(ui_rig, language="en", kiosk=False))
    try:
        ui.wait_screen("signin")
        assert not Window.dispatch("on_request_close")  # a developer's window closes as any other
    finally:
        ui.close()


# Times far longer than the test takes, so that nothing dims or locks unless the test says the time has passed:
# the app's idle tick compares its clock with the last touch, and idle_for() moves that touch back.
DIM_S, LOCK_S = 600, 1800


def idle_for(ui: Driver, seconds: float) -> None:
    ui.app._last_touch -= seconds


def test_idle_dims_a_touch_only_wakes_and_a_longer_idle_signs_out(ui_rig: Rig, tmp_path: Path) -> None:
    backlight = tmp_path / "brightness"
    backlight.write_text("255")
    ui = Driver(ui_settings(ui_rig, language="en", dim_after_s=DIM_S, lock_after_s=LOCK_S, backlight=backlight))
    try:
        sign_in(ui)
        ui.wait_screen("home")
        assert not ui.app.dimmed
        idle_for(ui, DIM_S)
        ui.wait_for(lambda: ui.app.dimmed, "the screen dimmed")
        assert backlight.read_text() == "20"

        ui.tap_id("job_sale")  # the waking touch lands on Sale, and presses nothing
        assert not ui.app.dimmed and backlight.read_text() == "255"
        assert ui.current == "home"

        idle_for(ui, LOCK_S)
        ui.wait_screen("signin")  # nobody came back: the terminal signs the cashier out
        assert engine(ui, lambda t: t.status().operator) is None
    finally:
        ui.close()
