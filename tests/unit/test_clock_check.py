"""The clock refusal's words: the CLI's English line, and the screen's in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.services.clock import behind_journal
from app.ui import engine_words


def test_the_screen_says_the_clock_refusal_in_both_languages():
    latest = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    refusal = behind_journal(latest - timedelta(days=1), latest)
    assert refusal is not None
    assert engine_words.words(refusal, "zh") == (
        "终端时钟为 2026-12-03 09:30 UTC，早于最后一笔交易的时间 2026-12-04 09:30 UTC。"
        "请先校正日期和时间，校正前不能消费、退货或结算。"
    )
    assert engine_words.words(refusal, "en").startswith("The clock says 2026-12-03 09:30 UTC, earlier than")
    assert behind_journal(latest - timedelta(minutes=4), latest) is None


def test_an_empty_journal_or_a_clock_ahead_refuses_nothing():
    latest = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    assert behind_journal(latest, None) is None
    assert behind_journal(latest + timedelta(days=3), latest) is None
