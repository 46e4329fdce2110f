"""When money waits for the journal's full read, and what stops it meanwhile (health/journal.py has the rules).

After a clean stop the first sale does not wait for PRAGMA quick_check (on a large journal, seconds from an SD
card); the check runs at an idle moment or before a settlement, and SQLite's own corruption errors stop sales
from the read that meets them. After a crash the first sale waits for the check, as before. The damage here is
"at rest": bytes of an index page overwritten with the file's change time put back, as a failing card leaves it."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services.errors import PosError
from app.services.health import SALES_BLOCKED, is_damage
from app.services.terminal import Terminal
from tests.conftest import Rig
from tests.integration.cli_rig import pos, pos_json
from tests.integration.health_rig import journal_root_page

VICTIM = "transactions_amount"  # read by a look-up by amount and by the full check, not by a start or a status


def rot_in_place(journal: Path, victim: str = VICTIM) -> None:
    before = journal.stat()
    page_size, page = journal_root_page(journal, victim)
    with journal.open("r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(b"\xa5" * 64)
    os.utime(journal, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.fixture
def rotted_after_a_clean_stop(rig: Rig) -> Iterator[Terminal]:
    t = rig.terminal()
    t.sign_in("01", "0000")
    assert t.sale(rig.money("12.00"), rig.card()).record is not None  # after the first start's check, waited for
    t.close()  # a clean stop after a finished check: it vouches for the file it leaves
    rot_in_place(rig.settings.journal_path)
    started = rig.terminal()
    yield started
    started.close()


def test_after_a_clean_stop_the_first_sale_does_not_wait_for_a_full_read(rig, rotted_after_a_clean_stop):
    t = rotted_after_a_clean_stop
    assert t.status().sales_blocked is None, "no full read stood between the start and the first sale"
    # The first read that meets the damage stops money from then on.
    with pytest.raises(sqlite3.DatabaseError) as unreadable:
        t.find(amount=t.ctx.money(1200))
    assert is_damage(unreadable.value)
    assert t.status().sales_blocked == SALES_BLOCKED
    net = rig.acquirer_net
    with pytest.raises(PosError, match=f"^{SALES_BLOCKED}$"):
        t.sale(rig.money("5.00"), rig.card())
    assert rig.acquirer_net == net, "the acquirer heard of nothing"


def test_the_check_at_an_idle_moment_stops_sales_once_its_verdict_is_in(rotted_after_a_clean_stop):
    t = rotted_after_a_clean_stop
    t.at_idle()
    assert t.journal_verdict() is not None
    assert t.status().sales_blocked == SALES_BLOCKED


def test_a_settlement_waits_for_the_full_check(rig, rotted_after_a_clean_stop):
    net = rig.acquirer_net
    with pytest.raises(PosError, match=f"^{SALES_BLOCKED}$"):
        rotted_after_a_clean_stop.settle()
    assert rig.acquirer_net == net


def test_after_a_crash_the_first_sale_waits_for_the_full_check(rig: Rig) -> None:
    config = rig.home.terminal_config
    code, report = pos_json(config, "signin", "--operator", "01", env={"POS_PIN": "0000"})
    assert code == 0, report
    done = pos(config, "sale", "12.34", env={"KIOSKPOS_CRASH_AT": "after_response"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    with sqlite3.connect(rig.settings.journal_path) as db:  # what the next start finds: the WAL folded in
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    rot_in_place(rig.settings.journal_path)
    t = rig.terminal()
    try:
        assert t.status().sales_blocked == SALES_BLOCKED
    finally:
        t.close()


def test_a_file_changed_since_the_clean_stop_is_checked_first(rig: Rig) -> None:
    t = rig.terminal()
    assert t.status().sales_blocked is None  # the first start's own check, waited for: its close vouches
    t.close()
    journal = rig.settings.journal_path
    assert journal.with_name(journal.name + ".clean").exists()
    rot_in_place(journal)
    os.utime(journal)  # now the change shows: not the file the last run closed
    t = rig.terminal()
    try:
        assert t.status().sales_blocked == SALES_BLOCKED
    finally:
        t.close()
