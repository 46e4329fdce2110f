"""Helpers for the back-office UI tests: a driver whose printer does not stop between copies, and a way to set up
state through the app's own engine (the one that owns the journal) before the screens are driven by touch."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, TypeVar

from app.config import Settings
from app.services.results import TxnResult
from tests.conftest import Rig
from tests.ui.conftest import ui_settings
from tests.ui.driver import Driver
from tests.ui.flow import engine
from tests.ui.test_sign_in import sign_in

T = TypeVar("T")
SUPERVISOR = "123456"


def office_settings(rig: Rig, **changes: Any) -> Settings:
    """English, and no "tear off the merchant copy" question between copies: these tests are about the back
    office (the card-flow tests answer that question)."""
    s = ui_settings(rig, language="en")
    return replace(s, printer=replace(s.printer, confirm_between_copies=False), **changes)


def signed_in(rig: Rig, **changes: Any) -> Driver:
    ui = Driver(office_settings(rig, **changes))
    sign_in(ui)
    ui.wait_screen("home")
    return ui


def home_to(ui: Driver, job: str, screen: str) -> None:
    """From the home screen, by touch."""
    ui.wait_screen("home")
    ui.tap_id(job)
    ui.wait_screen(screen)


def wait_any(ui: Driver, *names: str) -> str:
    """Whichever of these screens comes first (e.g. the tear-off question, or straight to the result)."""
    ui.wait_for(lambda: ui.current in names and not ui.app.manager.transition.is_active, f"one of {names}")
    return ui.current


def drawer_sale(ui: Driver, rig: Rig, amount: str, card: str = "visa-cda", way: str = "insert") -> TxnResult:
    """A sale through the engine with a card from the demo drawer (the app's own readers), so that a later refund
    can present the same card by touch."""
    assert ui.app.demo is not None
    ui.app.demo.present(card, way)
    try:
        return engine(ui, lambda t: t.sale(rig.money(amount), ui.app.card_input(threading.Event())))
    finally:
        ui.app.demo.take_back()
