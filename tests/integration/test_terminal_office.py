"""The Terminal façade the back-office screens use: set-up, the supervisor's staff work, what is left to refund,
and the totals a settlement would send. Real journal, real acquirer simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.bootstrap import build_terminal
from app.domain.operators import Role
from app.services.errors import PosError
from app.services.terminal import Terminal
from tests.conftest import Rig

SUPERVISOR = "123456"


@pytest.fixture
def fresh(rig: Rig, tmp_path: Path) -> Iterator[Terminal]:
    """A terminal never set up: its own empty journal, no demo accounts."""
    settings = replace(
        rig.settings,
        seed_demo_accounts=False,
        terminal=replace(rig.settings.terminal, data_dir=tmp_path / "fresh"),
    )
    t = build_terminal(settings)
    yield t
    t.close()


def test_operators_lists_accounts_without_their_pins(terminal: Terminal) -> None:
    staff = terminal.operators()
    assert [(s.id, s.role, s.signed_in) for s in staff] == [("00", Role.SUPERVISOR, False), ("01", Role.OPERATOR, True)]
    assert not any(hasattr(s, "pin") for s in staff)


def test_an_operator_added_by_the_supervisor_can_sign_in(terminal: Terminal) -> None:
    terminal.add_operator(SUPERVISOR, "02", "2468")
    assert "02" in [s.id for s in terminal.operators()]
    terminal.sign_out()
    assert terminal.sign_in("02", "2468") == "02"
    assert terminal.status().operator == "02"


def test_adding_with_a_wrong_supervisor_password_adds_nobody(terminal: Terminal) -> None:
    with pytest.raises(PosError, match="wrong PIN for the supervisor password"):
        terminal.add_operator("654321", "02", "2468")
    assert [s.id for s in terminal.operators()] == ["00", "01"]


def test_a_removed_operator_cannot_sign_in(terminal: Terminal) -> None:
    terminal.add_operator(SUPERVISOR, "03", "1357")
    terminal.remove_operator(SUPERVISOR, "03")
    assert "03" not in [s.id for s in terminal.operators()]
    with pytest.raises(PosError, match="no operator 03"):
        terminal.sign_in("03", "1357")


def test_a_pin_reset_by_the_supervisor_unlocks_and_replaces_the_old_pin(terminal: Terminal) -> None:
    terminal.add_operator(SUPERVISOR, "04", "1111")
    for _ in range(5):
        with pytest.raises(PosError):
            terminal.sign_in("04", "9999")
    assert next(s for s in terminal.operators() if s.id == "04").locked
    terminal.reset_pin(SUPERVISOR, "04", "2222")
    assert not next(s for s in terminal.operators() if s.id == "04").locked
    with pytest.raises(PosError, match="wrong PIN"):
        terminal.sign_in("04", "1111")
    assert terminal.sign_in("04", "2222") == "04"


def test_verify_supervisor_passes_the_right_password_and_counts_a_wrong_one(terminal: Terminal) -> None:
    terminal.verify_supervisor(SUPERVISOR, "test")
    with pytest.raises(PosError, match=r"wrong PIN for the supervisor password \(4 tries left\)"):
        terminal.verify_supervisor("000000", "test")


def test_set_up_chooses_the_supervisor_password_once(fresh: Terminal) -> None:
    assert not fresh.status().set_up and fresh.operators() == []
    with pytest.raises(PosError, match="6 to 12 digits"):
        fresh.set_up("12345")
    assert not fresh.status().set_up
    fresh.set_up("24681357")
    assert fresh.status().set_up
    fresh.verify_supervisor("24681357", "test")
    with pytest.raises(PosError, match="already set up"):
        fresh.set_up("11112222")
    fresh.add_operator("24681357", "01", "4321")
    assert fresh.sign_in("01", "4321") == "01"


def test_set_up_with_the_first_operator_writes_both_or_nothing(fresh: Terminal) -> None:
    with pytest.raises(PosError, match="4 to 6 digits"):
        fresh.set_up("24681357", ("01", "12"))
    assert not fresh.status().set_up and fresh.operators() == [], "a bad operator PIN leaves no supervisor behind"
    fresh.set_up("24681357", ("01", "4321"))
    assert [s.id for s in fresh.operators()] == ["00", "01"]
    assert fresh.sign_in("01", "4321") == "01"


def test_the_last_operator_cannot_be_removed(terminal: Terminal) -> None:
    with pytest.raises(PosError, match="last operator"):
        terminal.remove_operator(SUPERVISOR, "01")
    terminal.add_operator(SUPERVISOR, "02", "2468")
    terminal.remove_operator(SUPERVISOR, "02")
    assert [s.id for s in terminal.operators()] == ["00", "01"]


def test_refund_left_counts_what_is_refunded_and_refuses_what_refund_would(rig: Rig, terminal: Terminal) -> None:
    sale = terminal.sale(rig.money("100.00"), rig.card()).record
    declined = terminal.sale(rig.money("10.05"), rig.card()).record
    assert sale is not None and declined is not None
    with pytest.raises(PosError, match="void it instead"):
        terminal.refund_left(sale.trace)
    terminal.settle()
    assert terminal.refund_left(sale.trace) == rig.money("100.00")
    terminal.refund(sale.trace, rig.money("30.00"), SUPERVISOR, rig.card())
    assert terminal.refund_left(sale.trace) == rig.money("70.00")
    terminal.refund(sale.trace, rig.money("70.00"), SUPERVISOR, rig.card())
    with pytest.raises(PosError, match="refunded in full"):
        terminal.refund_left(sale.trace)
    with pytest.raises(PosError, match="declined, not approved"):
        terminal.refund_left(declined.trace)
    with pytest.raises(PosError, match="no transaction with voucher number 000999"):
        terminal.refund_left(999)


def test_batch_totals_are_what_the_settlement_sends(rig: Rig, terminal: Terminal) -> None:
    terminal.sale(rig.money("12.00"), rig.card())
    terminal.sale(rig.money("30.00"), rig.card("unionpay-credit"))
    terminal.sale(rig.money("10.05"), rig.card())  # declined: not counted
    before = terminal.batch_totals()
    assert before.net_minor == 4200 and before.by_kind["sale"].count == 2
    settled = terminal.settle().record
    assert settled.terminal_totals == before
    assert terminal.batch_totals(settled.batch) == before
    assert terminal.batch_totals().net_minor == 0
