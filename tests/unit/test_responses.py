"""Every response code tells the cashier, in English and in Chinese, what it means and what to do next."""

from __future__ import annotations

import pytest

from app.domain.responses import APPROVED, RESPONSE_CODES, meaning


@pytest.mark.parametrize("code", sorted(c for c in RESPONSE_CODES if c != APPROVED))
def test_a_decline_has_advice_in_both_languages(code: str) -> None:
    m = meaning(code)
    assert m.english and m.chinese and m.advice
    assert any("\u4e00" <= ch <= "\u9fff" for ch in m.advice_zh)


def test_an_unlisted_code_still_says_declined_with_its_code() -> None:
    m = meaning("Q7")
    assert "Q7" in m.english and "Q7" in m.chinese and m.advice == m.advice_zh == ""
