"""Steps of the card flow as a cashier and a customer do them, for the UI tests: by touch, through the real app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from app.services.terminal import Terminal
from app.sim.emulator.profiles import EMULATED_CARDS
from tests.ui.driver import Driver
from tests.ui.test_sign_in import sign_in

T = TypeVar("T")


def signed_in(ui: Driver) -> None:
    sign_in(ui)
    ui.wait_screen("home")


def start_sale(ui: Driver, amount_digits: str) -> None:
    """Home → Sale → the amount typed like a cash register (1234 is 12.34) → confirmed → the card prompt."""
    ui.wait_screen("home")
    ui.tap_id("job_sale")
    ui.wait_screen("amount")
    ui.keys(amount_digits)
    ui.tap_id("next")
    ui.tap_id("confirm")
    ui.wait_screen("present")


def present(ui: Driver, card: str, way: str) -> None:
    """Take a card from the demo drawer: scrolled into view, as a finger would, then its button pressed."""
    ui.wait_screen("present")
    drawer = ui.find("drawer")
    button = next(b for b in drawer.buttons() if b.card == card and b.way == way)
    drawer.ids.scroll.scroll_to(button.parent, padding=0, animate=False)
    ui.idle(2)
    ui.tap(button)


def enter_pin(ui: Driver, pin: str) -> None:
    ui.wait_screen("pin")
    ui.keys(pin)
    ui.tap_id("enter")


def print_customer_copy(ui: Driver) -> None:
    ui.wait_screen("tear")
    ui.tap_id("print_next")


def engine(ui: Driver, job: Callable[[Terminal], T]) -> T:
    """Ask the app's own engine (its thread, its journal connection) and wait for the answer."""
    answers: list[Any] = []
    ui.app.run_job(job, answers.append, lambda message: answers.append(AssertionError(message)))
    ui.wait_for(lambda: answers, "the engine's answer")
    if isinstance(answers[0], AssertionError):
        raise answers[0]
    result: T = answers[0]
    return result


def pan_of(card: str, app: int = 0) -> str:
    """The test card's number, for the acquirer's books (never shown: the screens carry first 6 / last 4)."""
    return EMULATED_CARDS[card].apps[app].pan


class Visits:
    """Every screen the app showed, in order: what the cardholder went through."""

    def __init__(self, ui: Driver) -> None:
        self.names: list[str] = []
        ui.app.manager.bind(current=lambda _m, name: self.names.append(name))
