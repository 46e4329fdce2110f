"""主管菜单 and 首次使用 by touch: the supervisor password first, operators added (who can then sign in) and removed,
runtime screen settings, the health screen; and a fresh terminal set up from nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.domain.operators import Role
from tests.conftest import Rig
from tests.ui.driver import Driver
from tests.ui.flow import engine
from tests.ui.office import SUPERVISOR, home_to, office_settings, signed_in
from tests.ui.test_sign_in import sign_in


@pytest.fixture
def office(ui_rig: Rig) -> Iterator[Driver]:
    ui = signed_in(ui_rig)
    yield ui
    ui.close()


def open_menu(ui: Driver, password: str = SUPERVISOR) -> None:
    home_to(ui, "job_supervisor", "supervisor")
    ui.keys(password)
    ui.tap_id("enter")


def test_the_menu_needs_the_supervisor_password_and_a_wrong_one_is_one_line(office: Driver) -> None:
    ui = office
    open_menu(ui, "654321")
    ui.wait_text("wrong PIN for the supervisor password (4 tries left)")
    assert ui.screen.mode == "password" and ui.find("password").value == ""
    assert ui.find("operators") not in list(ui.shown())
    ui.keys(SUPERVISOR)
    ui.tap_id("enter")
    ui.wait_for(lambda: ui.screen.mode == "menu", "the menu")
    assert ui.sees("Operators") and ui.sees("Health / devices")


def test_the_supervisor_adds_an_operator_who_can_then_sign_in(office: Driver) -> None:
    ui = office
    open_menu(ui)
    ui.wait_for(lambda: ui.screen.mode == "menu", "the menu")
    ui.tap_id("operators")
    ui.wait_text("Operator 01")
    assert ui.sees("signed in")
    ui.tap_id("add")
    ui.keys("02")  # the number, then the focus moves to the PIN
    ui.keys("2468")
    ui.tap_id("pin2")
    ui.keys("2469")
    ui.tap_id("save")
    ui.wait_text("The two PINs differ")
    ui.keys("2468")
    ui.tap_id("save")
    ui.wait_text("Operator 02 added")
    assert ui.sees("Operator 02")
    staff = engine(ui, lambda t: t.operators())
    assert [(s.id, s.role) for s in staff] == [("00", Role.SUPERVISOR), ("01", Role.OPERATOR), ("02", Role.OPERATOR)]

    ui.tap_id("operators_back")
    ui.tap_id("done")
    ui.wait_screen("home")
    ui.tap_id("job_sign_out")
    sign_in(ui, "02", "2468")
    ui.wait_screen("home")
    ui.wait_text("Operator 02")  # the status bar follows the engine's status


def test_the_supervisor_removes_an_operator_with_a_second_tap_but_never_the_one_signed_in(office: Driver) -> None:
    ui = office
    engine(ui, lambda t: t.add_operator(SUPERVISOR, "07", "7777"))
    open_menu(ui)
    ui.wait_for(lambda: ui.screen.mode == "menu", "the menu")
    ui.tap_id("operators")
    ui.wait_text("Operator 07")
    rows = {row.operator: row for row in ui.screen.ids.staff_rows.children}
    ui.tap(rows["01"])
    ui.tap_id("remove")
    ui.wait_text("Operator 01 is signed in now")
    ui.tap(rows["07"])
    ui.tap_id("remove")
    ui.wait_text("Tap again: remove 07")
    assert "07" in [s.id for s in engine(ui, lambda t: t.operators())]
    ui.tap_id("remove")
    ui.wait_text("Operator 07 removed.")
    assert not ui.sees("Operator 07   ") and "07" not in [s.id for s in engine(ui, lambda t: t.operators())]


def test_screen_settings_change_for_this_run_only(office: Driver) -> None:
    ui = office
    config_before = ui.app.settings.path.read_text()
    open_menu(ui)
    ui.wait_for(lambda: ui.screen.mode == "menu", "the menu")
    ui.tap_id("screen")
    assert ui.sees("30 s") and ui.sees("5 min") and ui.sees("For this run only")
    ui.tap_text("+")  # the first + is dimming's
    assert ui.sees("1 min")
    ui.tap_id("apply")
    ui.wait_text("Applied until the next restart.")
    assert ui.app.settings.ui.dim_after_s == 60 and ui.app.settings.ui.lock_after_s == 300
    assert ui.app.settings.path.read_text() == config_before


def test_the_health_screen_lists_the_checks_and_prints_a_test_slip(office: Driver) -> None:
    ui = office
    open_menu(ui)
    ui.wait_for(lambda: ui.screen.mode == "menu", "the menu")
    ui.tap_id("health")
    ui.wait_screen("health")
    ui.wait_for(lambda: ui.screen.checks, "the checks")
    checks = ui.screen.checks
    assert [row.detail for row in reversed(ui.screen.ids.rows.children)] == [c.detail for c in checks]
    assert ui.sees(checks[0].detail) and ui.sees("printer: slip pictures go to")
    assert ui.sees(f"All {len(checks)} checks passed.") == all(c.ok for c in checks)
    ui.tap_id("test_print")
    ui.wait_for(lambda: ui.find("slip").source, "the test slip's picture")
    assert ui.find("slip").source.endswith(".png") and not ui.screen.printer_error
    ui.tap_id("back")
    ui.wait_screen("supervisor")
    assert ui.screen.mode == "menu"  # straight back to the menu: the password was given a moment ago


def test_first_run_on_a_fresh_journal_sets_up_the_supervisor_and_the_first_operator(ui_rig: Rig) -> None:
    ui = Driver(office_settings(ui_rig, seed_demo_accounts=False))
    try:
        ui.wait_screen("first_run")
        settings = ui.app.settings
        assert ui.sees(settings.terminal.merchant_name) and ui.sees(settings.terminal.terminal_id)
        assert ui.sees(str(settings.path)) and ui.sees(settings.acquirer.url) and ui.sees("TRAINING")
        ui.tap_id("next")
        ui.keys("13579")
        ui.tap_id("go")
        ui.wait_text("Enter the supervisor password (6–12 digits).")
        ui.keys("2468")  # now 9 digits
        ui.tap_id("password2")
        ui.keys("135792460")
        ui.tap_id("go")
        ui.wait_text("The two entries differ")
        ui.keys("135792468")
        ui.tap_id("go")
        ui.wait_for(lambda: ui.screen.step == "operator", "the first operator")
        ui.keys("01")
        ui.keys("4321")
        ui.tap_id("pin2")
        ui.keys("4321")
        assert not engine(ui, lambda t: t.status().set_up)  # nothing is written before the end
        ui.tap_id("go")
        ui.wait_screen("signin")
        assert ui.sees("Set up. Operator 01 can sign in now.")
        sign_in(ui, "01", "0000")  # no demo accounts here
        ui.wait_text("wrong PIN for operator 01")
        ui.keys("4321")  # the operator number stays; the PIN field has the focus again
        ui.tap_id("sign_in")
        ui.wait_screen("home")
        ui.wait_text("Operator 01")
        assert [s.id for s in engine(ui, lambda t: t.operators())] == ["00", "01"]
        engine(ui, lambda t: t.verify_supervisor("135792468", "test"))
    finally:
        ui.close()
