"""Screen-to-screen time and frames dropped during a sale, measured inside one app process (bench/ui.py).

Frames are pumped back to back with Kivy's own loop step (`EventLoop.idle()`, which paces itself to the 60 fps
cap), never with the test driver's waits, whose pauses would be counted as slow frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kivy.base import EventLoop
from kivy.tests.common import UnitTestTouch

from app.config import load_settings
from app.ui.kivy_env import prepare
from bench.ui import READY

FRAME_S = 1 / 60
DROPPED_AFTER_S = 1.5 * FRAME_S
CEILING_S = 120.0


def pump_until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + CEILING_S
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the app never got there")
        EventLoop.idle()


def run_flow(kind: str, config: Path, rounds: int) -> None:
    settings = load_settings(config)
    prepare(config.parent / "kivy", (800, 480), kiosk=False, headless=True)
    # The figures are about the screens: no "tear off the merchant copy" question in the middle of a sale.
    settings = replace(settings, printer=replace(settings.printer, confirm_between_copies=False))
    from tests.ui.driver import Driver
    from tests.ui.flow import present, start_sale
    from tests.ui.test_sign_in import sign_in

    ui = Driver(replace(settings, ui=replace(settings.ui, kiosk=False, language="en")))
    sign_in(ui)
    ui.wait_screen("home")
    figures: list[float] = []
    if kind == "transitions":
        for _ in range(rounds):
            ui.wait_screen("home")
            x, y = ui.find("job_sale").to_window(*ui.find("job_sale").center)
            touch = UnitTestTouch(x, y)
            started = time.perf_counter()
            touch.touch_down()
            touch.touch_up()
            pump_until(lambda: ui.current == "amount" and ui.settled)
            figures.append(time.perf_counter() - started)
            ui.tap_id("cancel")
    else:
        # In flight: from the frame after the card was presented (the drawer's redraw is the tap's, not the
        # engine's) to the last frame before the result screen replaces the prompt.
        intervals: list[float] = []
        switching: list[float] = []  # the frames of the fade to the result screen, for comparison
        for _ in range(rounds):
            start_sale(ui, "2000")
            present(ui, "visa-cda", "insert")  # signature card: nothing to type while the sale is in flight
            last = time.perf_counter()
            while ui.current != "result":
                EventLoop.idle()
                now = time.perf_counter()
                (intervals if ui.current != "result" else switching).append(now - last)
                last = now
            while not ui.settled:
                EventLoop.idle()
                now = time.perf_counter()
                switching.append(now - last)
                last = now
            ui.tap_id("done")
        dropped = [i for i in intervals if i > DROPPED_AFTER_S]
        figures = [len(intervals), len(dropped), max(intervals), max(switching)]
    ui.app.run_job(lambda t: t.sign_out(), lambda _r: None, lambda _m: None)
    pump_until(lambda: not ui.app.busy)
    ui.close()
    print(READY, *figures, flush=True)
