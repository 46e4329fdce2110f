"""签到 by touch: the keypad, the PIN as dots, a wrong PIN, sign-out."""

from __future__ import annotations

from tests.ui.driver import Driver


def sign_in(ui: Driver, operator: str = "01", pin: str = "0000") -> None:
    ui.wait_screen("signin")
    ui.keys(operator)
    ui.keys(pin)
    ui.tap_id("sign_in")


def test_operator_signs_in_by_touch_and_sees_the_home_screen(ui: Driver) -> None:
    ui.wait_screen("signin")
    ui.keys("01")
    ui.keys("0000")
    assert ui.find("pin").shown == "●●●●"  # the PIN is never shown, only a dot per digit
    assert "0000" not in ui.texts()  # (the demo's hint names the PIN; no field shows it)
    ui.tap_id("sign_in")
    ui.wait_screen("home")
    assert ui.sees("Sale") and ui.sees("Operator 01")


def test_a_wrong_pin_is_refused_with_one_line_and_the_pin_cleared(ui: Driver) -> None:
    sign_in(ui, pin="9999")
    ui.wait_for(lambda: ui.screen.notice, "the refusal")
    assert ui.current == "signin"
    assert "wrong" in ui.screen.notice.lower() or "pin" in ui.screen.notice.lower()
    assert ui.find("pin").value == ""
