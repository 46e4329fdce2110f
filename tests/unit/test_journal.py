import os
import sqlite3
import stat
from datetime import UTC, datetime

import pytest

from app.domain.transaction import IllegalTransition, TxnKind, TxnState
from app.journal.journal import Journal
from app.journal.migrations import LATEST_VERSION
from app.journal.records import CardSummary, Intent, Outcome
from app.journal.store import JournalError

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def intent(key: str, amount: int = 1234) -> Intent:
    card = CardSummary("476173******0010", "tok", "visa", "credit", "chip", "signature", {"84": "A0000000031010"})
    return Intent(TxnKind.SALE, amount, "CNY", "01", key, NOW, "2026-11-20", card)


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "journal.sqlite")
    yield j
    j.close()


def test_the_journal_is_wal_with_full_sync_and_private(journal, tmp_path):
    assert journal.store.pragma("journal_mode") == "wal"
    assert journal.store.pragma("synchronous") == 2  # FULL
    assert journal.store.pragma("user_version") == LATEST_VERSION
    assert stat.S_IMODE((tmp_path / "journal.sqlite").stat().st_mode) == 0o600


def test_traces_are_consecutive_and_the_intent_is_pending(journal):
    a = journal.txns.record_intent(intent("k" * 32))
    b = journal.txns.record_intent(intent("m" * 32))
    assert (a.trace, b.trace) == (1, 2)
    assert a.state is TxnState.PENDING and a.batch == 1
    assert [r.trace for r in journal.txns.in_flight()] == [1, 2]


def test_an_illegal_move_is_refused_and_changes_nothing(journal):
    rec = journal.txns.record_intent(intent("k" * 32))
    journal.txns.record_outcome(rec.trace, Outcome(TxnState.DECLINED, "05"), NOW)
    with pytest.raises(IllegalTransition):
        journal.txns.record_outcome(rec.trace, Outcome(TxnState.APPROVED, "00", "123456"), NOW)
    again = journal.txns.get(rec.trace)
    assert again.state is TxnState.DECLINED and again.auth_code is None


def test_an_outcome_and_the_originals_new_state_commit_together(journal):
    sale = journal.txns.record_intent(intent("k" * 32))
    journal.txns.record_outcome(sale.trace, Outcome(TxnState.APPROVED, "00", "111111", "261120000001"), NOW)
    void = journal.txns.record_intent(intent("v" * 32))
    with pytest.raises(IllegalTransition):  # the original cannot become COMPLETED from a void: nothing commits
        journal.txns.record_outcome(void.trace, Outcome(TxnState.APPROVED, "00"), NOW, (sale.trace, TxnState.DECLINED))
    assert journal.txns.get(void.trace).state is TxnState.PENDING
    journal.txns.record_outcome(void.trace, Outcome(TxnState.APPROVED, "00"), NOW, (sale.trace, TxnState.VOIDED))
    assert journal.txns.get(sale.trace).state is TxnState.VOIDED


def test_a_journal_from_a_newer_version_is_refused_with_one_line(tmp_path):
    path = tmp_path / "journal.sqlite"
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(JournalError) as err:
        Journal(path)
    assert "newer KioskPOS" in str(err.value) and "\n" not in str(err.value)


def test_a_file_that_is_not_a_journal_is_refused(tmp_path):
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="cannot be opened"):
        Journal(path)


def test_migrations_are_applied_once(tmp_path):
    path = tmp_path / "journal.sqlite"
    j = Journal(path)
    j.txns.record_intent(intent("k" * 32))
    j.close()
    j = Journal(path)
    assert j.txns.next_trace() == 2
    j.close()


def test_a_version_1_journal_is_upgraded_in_place_with_its_data(tmp_path):
    from app.journal.migrations import MIGRATIONS

    path = tmp_path / "journal.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0][1] + "\nPRAGMA user_version = 1;")
        db.execute(
            """INSERT INTO transactions (trace, batch, kind, state, amount_minor, currency, created_at, local_date,
               updated_at, operator, idempotency_key) VALUES (1, 1, 'sale', 'approved', 500, 'CNY',
               '2026-01-01T00:00:00.000000Z', '2026-01-01', '2026-01-01T00:00:00.000000Z', '01', 'k')"""
        )
        db.execute("UPDATE counters SET value = 2 WHERE name = 'next_trace'")
    j = Journal(path)
    assert j.store.pragma("user_version") == LATEST_VERSION
    assert j.txns.get(1).amount_minor == 500
    j.meta.put("x", "y")
    assert j.meta.get("x") == "y"
    assert j.txns.record_intent(intent("n" * 32)).trace == 2
    j.close()


def test_the_write_ahead_files_are_private_too_whatever_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        j = Journal(tmp_path / "journal.sqlite")
        try:
            j.txns.record_intent(intent("wal-mode"))
            parts = [tmp_path / f"journal.sqlite{suffix}" for suffix in ("", "-wal", "-shm")]
            assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in parts} == {p.name: 0o600 for p in parts}
        finally:
            j.close()
    finally:
        os.umask(previous)


def test_a_journal_missing_a_table_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "journal.sqlite"
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE audit")
    db.close()
    with pytest.raises(JournalError, match=r"damaged \(its table audit is gone\): restore journal.sqlite"):
        Journal(path)
