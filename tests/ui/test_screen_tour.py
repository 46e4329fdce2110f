"""A picture of every screen, in both languages, at the window size this process was started with (800×480 unless
KIOSKPOS_UI_SIZE says otherwise; one Kivy window per process, so the 1280×800 tour runs in a child process).

On each picture the tour also checks what a person would notice first: no text spilling out of its box and no
button off the window. `make screens` runs the tour into docs/screens/."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from kivy.core.window import Window
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget
from PIL import Image

from tests.conftest import Rig
from tests.ui.conftest import ui_settings
from tests.ui.driver import WAIT_S, Driver
from tests.ui.flow import enter_pin, present, print_customer_copy, start_sale
from tests.ui.office import SUPERVISOR, home_to, wait_any
from tests.ui.test_banner import crash_a_sale_after_the_answer

SLACK_PX = 2  # texture rounding


class Camera:
    def __init__(self, ui: Driver, folder: Path) -> None:
        self.ui, self.folder = ui, folder
        self.taken: list[tuple[str, Path]] = []  # (screen, picture)

    def shoot(self, name: str) -> None:
        screen = self.ui.current
        self.ui.idle(3)
        assert_fits(self.ui, name)
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        self.ui.screenshot(path)
        if os.environ.get("KIOSKPOS_SCREENS_DIR"):  # for docs/screens only: 0.1–0.2 s a picture, wasted on a test
            _shrink(path)
        assert self.ui.current == screen, f"{name}: the screen moved on to {self.ui.current} before the picture"
        self.taken.append((screen, path))


def _shrink(path: Path) -> None:
    """Flat colours quantise without visible loss; the docs stay a few MB, not tens."""
    with Image.open(path) as picture:
        small = picture.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def assert_fits(ui: Driver, where: str) -> None:
    spilled = []
    for widget in ui.shown():
        if isinstance(widget, Label) and widget.text.strip():
            width, height = widget.texture_size
            if width > widget.width + SLACK_PX or height > widget.height + SLACK_PX:
                spilled.append(
                    f"{widget.text[:40]!r} needs {width:.0f}×{height:.0f} in {widget.width:.0f}×{widget.height:.0f}"
                )
        if isinstance(widget, Button) and not _scrolled(widget):
            x, y = widget.to_window(widget.x, widget.y)
            if (
                x < -SLACK_PX
                or y < -SLACK_PX
                or x + widget.width > Window.width + SLACK_PX
                or y + widget.height > Window.height + SLACK_PX
            ):
                spilled.append(f"button {widget.text[:30]!r} off the window")
    assert not spilled, f"{where} at {Window.width}×{Window.height}: " + "; ".join(spilled)


def _scrolled(widget: Widget) -> bool:
    """Inside a scroll view: partly out of view until scrolled, by design."""
    parent = widget.parent
    while parent is not None and parent is not parent.parent:  # Kivy's Window is its own parent
        if isinstance(parent, ScrollView):
            return True
        parent = parent.parent
    return False


def tour(rig: Rig, lang: str, folder: Path) -> list[tuple[str, Path]]:
    settings = ui_settings(rig, language=lang)
    # The processing screen is pictured while the simulator holds its answer: this terminal outwaits any hold.
    patient = replace(settings.acquirer, read_timeout_s=WAIT_S)
    ui = Driver(replace(settings, acquirer=patient, seed_demo_accounts=False))
    camera = Camera(ui, folder)
    shoot = camera.shoot
    try:
        ui.wait_screen("first_run")
        shoot("first-run")
        ui.tap_id("next")
        ui.keys(SUPERVISOR)
        ui.tap_id("password2")
        ui.keys(SUPERVISOR)
        shoot("first-run-password")
        ui.tap_id("go")
        ui.wait_for(lambda: ui.screen.step == "operator", "the first operator")
        ui.keys("01")
        ui.keys("0000")
        ui.tap_id("pin2")
        ui.keys("0000")
        ui.tap_id("go")

        ui.wait_screen("signin")
        ui.keys("01")
        ui.keys("00")
        shoot("sign-in")
        ui.keys("00")
        ui.tap_id("sign_in")
        ui.wait_screen("home")
        shoot("home")

        # 消费 with the chip and its PIN, both copies.
        ui.tap_id("job_sale")
        ui.wait_screen("amount")
        ui.keys("12345")
        shoot("amount")
        ui.tap_id("next")
        shoot("amount-confirm")
        ui.tap_id("confirm")
        ui.wait_screen("present")
        shoot("present-card")
        present(ui, "mastercard-dda", "insert")
        ui.wait_screen("pin")
        ui.keys("12")
        shoot("pin")
        ui.keys("34")
        ui.tap_id("enter")
        ui.wait_screen("tear")
        shoot("tear-off")
        print_customer_copy(ui)
        ui.wait_screen("result")
        shoot("approved")
        ui.tap_id("done")

        # The cardholder's choice of application, then processing: pictured while the acquirer holds its answer,
        # so the screen stays until the picture is taken, however slow this machine is today.
        start_sale(ui, "3000")
        present(ui, "unionpay-two-apps", "insert")
        ui.wait_screen("choose_app")
        shoot("choose-application")
        ui.tap(sorted(ui.find("apps").children, key=lambda b: b.y)[0])
        with rig.server.holding_answers():
            enter_pin(ui, "123456")
            ui.wait_screen("processing")
            shoot("processing")
        print_customer_copy(ui)
        ui.wait_screen("result")
        ui.tap_id("done")

        start_sale(ui, "2068")  # .68: the answer is lost on its way back; the terminal reverses
        present(ui, "visa-contactless", "tap")
        ui.wait_screen("result")
        shoot("result-unknown")
        ui.tap_id("done")

        start_sale(ui, "1051")
        present(ui, "visa-contactless", "tap")
        ui.wait_screen("result")
        shoot("declined")
        ui.tap_id("done")
        start_sale(ui, "3800")
        present(ui, "visa-contactless", "tap")
        print_customer_copy(ui)
        ui.wait_screen("result")
        ui.tap_id("done")

        # 撤销 of the tap sale.
        home_to(ui, "job_void", "void")
        ui.wait_for(lambda: ui.screen.records, "today's sales listed")
        shoot("void-list")
        tap_trace = next(r.trace for r in ui.screen.records if r.amount_minor == 3800)
        ui.keys(str(tap_trace))
        ui.tap_id("find")
        ui.wait_for(lambda: ui.screen.step == "confirm", "the original shown")
        ui.keys(SUPERVISOR[:3])
        shoot("void-confirm")
        ui.keys(SUPERVISOR[3:])
        ui.tap_id("confirm")
        if wait_any(ui, "tear", "result") == "tear":
            print_customer_copy(ui)
        ui.wait_screen("result")
        ui.tap_id("done")

        # 预授权: a hold by touch, then the list of holds to complete.
        home_to(ui, "job_preauth", "preauth")
        shoot("preauth")
        ui.tap_id("new")
        ui.wait_screen("amount")
        ui.keys("50000")
        ui.tap_id("next")
        ui.tap_id("confirm")
        present(ui, "visa-cda", "insert")
        if wait_any(ui, "tear", "result") == "tear":
            print_customer_copy(ui)
        ui.wait_screen("result")
        ui.tap_id("done")
        home_to(ui, "job_preauth", "preauth")
        ui.tap_id("complete")
        ui.wait_screen("preauth_complete")
        ui.wait_for(lambda: ui.screen.records, "open pre-auths listed")
        shoot("preauth-complete")
        ui.tap_id("cancel")

        ui.wait_screen("home")
        ui.tap_id("job_balance")
        ui.wait_screen("present")
        present(ui, "visa-contactless", "tap")
        if wait_any(ui, "pin", "result") == "pin":
            enter_pin(ui, "1234")
        ui.wait_screen("result")
        shoot("balance")
        ui.tap_id("done")

        # 结算.
        home_to(ui, "job_settle", "settlement")
        ui.wait_for(lambda: ui.find("summary").text, "the batch so far")
        shoot("settlement-before")
        ui.tap_id("settle")
        ui.wait_for(lambda: ui.screen.phase == "after", "the settlement's result")
        shoot("settlement-totals")
        ui.tap_id("done")

        # 退货 of yesterday's chip sale.
        home_to(ui, "job_refund", "refund")
        ui.keys("1")
        ui.tap_id("find")
        ui.wait_for(lambda: ui.screen.step == "confirm", "the original shown")
        shoot("refund-confirm")
        ui.tap_id("back")
        ui.tap_id("cancel")

        home_to(ui, "job_history", "history")
        ui.tap_id("earlier")
        ui.wait_for(lambda: ui.screen.rows, "yesterday's batch listed")
        shoot("history")
        ui.tap_id("by_voucher")
        ui.keys("1")
        ui.tap_id("run_search")
        ui.wait_for(lambda: ui.screen.mode == "detail", "the transaction in detail")
        shoot("history-detail")
        ui.tap_id("to_list")
        ui.tap_id("back")

        home_to(ui, "job_supervisor", "supervisor")
        shoot("supervisor-password")
        ui.keys(SUPERVISOR)
        ui.tap_id("enter")
        ui.wait_for(lambda: ui.screen.mode == "menu", "the menu")
        shoot("supervisor-menu")
        ui.tap_id("operators")
        ui.wait_for(lambda: ui.screen.mode == "operators", "the operators")
        shoot("operators")
        ui.tap_id("operators_back")
        ui.wait_for(lambda: ui.screen.mode == "menu", "the menu")
        ui.tap_id("health")
        ui.wait_screen("health")
        ui.wait_for(lambda: ui.screen.checks, "the checks")
        shoot("health")
    finally:
        ui.close()

    # A sale cut off by a crash while the line is down: the banner, and what its button says.
    crash_a_sale_after_the_answer(rig)
    rig.server.stop()
    camera.ui = ui = Driver(ui_settings(rig, language=lang))
    try:
        ui.wait_screen("home")
        ui.wait_for(lambda: ui.app.banner, "the banner")
        shoot("banner")
        ui.tap_text(ui.app.banner)
        ui.wait_screen("message")
        shoot("message")
    finally:
        ui.close()
        rig.restart_simulator()
    return camera.taken


SAME_AS_VOID = {"preauth_void"}  # the void screen's layout, for a hold: pictured as `void-*`


def all_screens() -> list[str]:
    from app.ui.screens import discover

    return [screen.screen_name for screen in discover()]


def screens_folder(tmp_path: Path, lang: str) -> Path:
    root = Path(os.environ.get("KIOSKPOS_SCREENS_DIR") or tmp_path)
    return root / f"{Window.width}x{Window.height}" / lang


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tour_of_every_screen(ui_rig: Rig, tmp_path: Path, lang: str) -> None:
    folder = screens_folder(tmp_path, lang)
    for old in folder.glob("*.png"):
        old.unlink()
    taken = tour(ui_rig, lang, folder)
    shown = {screen for screen, _path in taken}
    assert shown == set(all_screens()) - SAME_AS_VOID, "a screen without a picture (or a picture of no screen)"
    for _screen, path in taken:
        with Image.open(path) as picture:
            assert picture.size == (Window.width, Window.height)
            colors = picture.convert("RGB").getcolors(maxcolors=Window.width * Window.height) or []
            assert len(colors) > 8, f"{path.name} is (nearly) blank"


def test_the_touch_display_2_tour_runs_in_its_own_window(tmp_path: Path) -> None:
    env = dict(os.environ, KIOSKPOS_UI_SIZE="1280x800", KIOSKPOS_SCREENS_DIR=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::test_tour_of_every_screen"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    english, chinese = (sorted(p.name for p in (tmp_path / "1280x800" / lang).glob("*.png")) for lang in ("en", "zh"))
    assert english == chinese and len(english) >= len(all_screens()) - len(SAME_AS_VOID)
