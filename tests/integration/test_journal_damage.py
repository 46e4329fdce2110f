"""A damaged journal stops money moving, with one clear line, while what can still be read stays available.

The damage is real: a copy of a journal written by a real counter day, with bytes of one page overwritten (the
start-up quick_check finds it), or with an index whose declared columns no longer match what it holds (only the
self-test's full integrity_check finds that)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import build_terminal
from app.domain.transaction import TxnState
from app.journal.records import TxnRecord
from app.services.errors import PosError
from app.services.health import SALES_BLOCKED, is_damage
from app.services.results import Status
from app.services.terminal import Terminal
from tests.conftest import Rig
from tests.integration.health_rig import copy_journal, damaged_copy, in_data_dir


@dataclass
class Day:
    sale: TxnRecord
    preauth: TxnRecord


@pytest.fixture
def day(rig: Rig) -> Day:
    t = rig.terminal()
    t.sign_in("01", "0000")
    sale = t.sale(rig.money("12.00"), rig.card())
    preauth = t.preauth(rig.money("30.00"), rig.card())
    t.close()
    assert sale.record is not None and preauth.record is not None
    assert sale.status is Status.APPROVED and preauth.status is Status.APPROVED
    return Day(sale.record, preauth.record)


@pytest.fixture
def damaged(rig: Rig, day: Day, tmp_path: Path) -> Iterator[Terminal]:
    """A terminal on a copy of the day's journal whose amount index has a page overwritten."""
    damaged_copy(rig.settings.journal_path, tmp_path / "damaged", "transactions_amount")
    t = build_terminal(in_data_dir(rig.settings, tmp_path / "damaged"))
    yield t
    t.close()


def money_moves(rig: Rig, day: Day) -> dict[str, Callable[[Terminal], Any]]:
    return {
        "sale": lambda t: t.sale(rig.money("5.00"), rig.card()),
        "preauth": lambda t: t.preauth(rig.money("5.00"), rig.card()),
        "balance": lambda t: t.balance(rig.card()),
        "void": lambda t: t.void(day.sale.trace, "123456"),
        "refund": lambda t: t.refund(day.sale.trace, rig.money("1.00"), "123456", rig.card()),
        "complete": lambda t: t.complete(day.preauth.trace, rig.money("30.00")),
        "preauth_void": lambda t: t.preauth_void(day.preauth.trace, "123456"),
        "settle": lambda t: t.settle(),
    }


def test_nothing_that_moves_money_runs_on_a_damaged_journal(rig, day, damaged):
    assert damaged.status().sales_blocked == SALES_BLOCKED
    net, next_trace = rig.acquirer_net, damaged.status().next_trace
    for name, move in money_moves(rig, day).items():
        with pytest.raises(PosError) as refused:
            move(damaged)
        assert str(refused.value) == SALES_BLOCKED, name
    assert rig.acquirer_net == net, "the acquirer heard of nothing"
    assert damaged.status().next_trace == next_trace, "not even an intent was written"


def test_look_ups_and_reprints_that_can_read_still_work(day, damaged):
    assert damaged.get(day.sale.trace).state is TxnState.APPROVED
    assert [r.trace for r in damaged.find()] == [day.preauth.trace, day.sale.trace]
    reprinted = damaged.reprint(day.sale.trace)
    assert reprinted.printer_error is None and len(reprinted.slips) == 2
    assert "DUPLICATE" in Path(reprinted.slips[0]).read_text(encoding="utf-8")
    # A look-up through the damaged index cannot read: SQLite says so, and the callers say it in one line.
    with pytest.raises(sqlite3.DatabaseError) as unreadable:
        damaged.find(amount=damaged.ctx.money(1200))
    assert is_damage(unreadable.value)


def test_the_self_test_names_the_journal_and_passes_the_rest(damaged):
    checks = damaged.self_test()
    assert [c.name for c in checks if not c.ok] == ["journal"]
    journal = next(c for c in checks if c.name == "journal")
    assert journal.detail.startswith("journal: damaged (") and "sales are disabled — call support" in journal.detail
    assert "\n" not in journal.detail


def test_a_damaged_table_page_keeps_sales_off_and_the_diagnostics_slip_still_prints(rig, day, tmp_path):
    damaged_copy(rig.settings.journal_path, tmp_path / "damaged", "transactions")
    t = build_terminal(in_data_dir(rig.settings, tmp_path / "damaged"))
    try:
        with pytest.raises(PosError, match=r"^journal damaged: sales are disabled"):
            t.sale(rig.money("5.00"), rig.card())
        with pytest.raises(sqlite3.DatabaseError):
            t.get(day.sale.trace)
        printed = t.print_diagnostics()
    finally:
        t.close()
    assert printed.error is None
    text = Path(printed.slips[0]).read_text(encoding="utf-8")
    assert "SALES DISABLED" in text and "journal damaged: sales are disabled" in text
    assert "JOURNAL" in text and "FAIL" in text and "CHECKS FAILED" in text


def mismatched_index(journal: Path) -> None:
    """The amount index now declares another column than the one it holds: every page is well formed (quick_check
    passes), but the index no longer matches its table (integrity_check says so)."""
    with sqlite3.connect(journal) as db:
        db.execute("PRAGMA writable_schema=ON")
        db.execute(
            "UPDATE sqlite_master SET sql = replace(sql, '(amount_minor)', '(batch)') WHERE name = ?",
            ("transactions_amount",),
        )
        db.execute("PRAGMA writable_schema=OFF")
    db.close()


def test_damage_only_the_full_check_finds_stops_sales_from_the_self_test_on(rig, day, tmp_path):
    mismatched_index(copy_journal(rig.settings.journal_path, tmp_path / "copy"))
    t = build_terminal(in_data_dir(rig.settings, tmp_path / "copy"))
    try:
        assert t.status().sales_blocked is None, "quick_check at start does not compare indexes with tables"
        journal = next(c for c in t.self_test() if c.name == "journal")
        assert not journal.ok and "missing from index transactions_amount" in journal.detail
        assert t.status().sales_blocked == SALES_BLOCKED
        with pytest.raises(PosError, match=r"^journal damaged: sales are disabled"):
            t.sale(rig.money("5.00"), rig.card())
    finally:
        t.close()
