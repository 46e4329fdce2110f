"""Every progress line the engine says has words on the counter's screen, in both languages.

The lines are read from the services' source (every `say(...)` call), so a new or reworded line fails here
rather than showing up untranslated, or unrecognised as "the request is being sent", at a counter.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from app.journal.store import NO_SALE
from app.ui import engine_words

SERVICES = Path(__file__).resolve().parents[2] / "app" / "services"


def _samples(node: ast.expr) -> list[str]:
    """The strings an argument can be, with every {placeholder} filled by digits."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        parts = [_samples(v) if not isinstance(v, ast.FormattedValue) else ["000042"] for v in node.values]
        return ["".join(p) for p in itertools.product(*parts)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in _samples(node.left) for b in _samples(node.right)]
    if isinstance(node, ast.IfExp):
        return _samples(node.body) + _samples(node.orelse)
    raise AssertionError(f"a progress line the test cannot read: {ast.unparse(node)}")


def _said() -> list[str]:
    lines = []
    for path in sorted(SERVICES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "say"
                and isinstance(node.func.value, ast.Attribute | ast.Name)
                and getattr(node.func.value, "attr", getattr(node.func.value, "id", "")) == "ctx"
            ):
                lines += _samples(node.args[0])
    return lines


def test_the_services_say_something_this_test_can_read() -> None:
    said = _said()
    assert "Waiting for the acquirer" in said and len(said) >= 6


@pytest.mark.parametrize("line", _said())
def test_every_progress_line_has_words_in_both_languages(line: str) -> None:
    assert engine_words.known(line), f"no words for {line!r}: add it to app/ui/engine_words.py"
    chinese = engine_words.words(line, "zh")
    assert chinese != line and any("\u4e00" <= ch <= "\u9fff" for ch in chinese)
    assert "{" not in chinese and "{" not in engine_words.words(line, "en")


def test_numbers_carry_into_the_words_and_unknown_lines_are_shown_as_they_are() -> None:
    assert "000042" in engine_words.words("Sending reversal for voucher 000042", "zh")
    assert engine_words.words("Something new", "zh") == "Something new"
    assert engine_words.is_sending("Waiting for the acquirer")
    assert not engine_words.is_sending("Sending reversal for voucher 000042")


def test_the_full_disk_refusal_has_words_in_both_languages() -> None:
    # The exact line the gate raises (tests/integration/test_outcome_window.py checks the engine says it).
    refusal = f"the journal cannot be written: disk full — {NO_SALE}"
    assert engine_words.words(refusal, "zh") == "交易记录无法写入：存储已满。释放空间前不能交易。"
    assert engine_words.words(refusal, "en").startswith("The journal cannot be written: the disk is full.")
