"""Bad input at the `pos` command: one clear line (or the usual JSON object), and nothing changed.

Real `pos` processes against a real `pos acquirer-sim`, as a shop's scripts would run them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_rig import (  # noqa: F401 (the `sim` fixture)
    POS,
    ROOT,
    SimProcess,
    pos,
    pos_json,
    signed_in_simulator,
)


def journal_rows(sim: SimProcess) -> tuple[list[Any], list[Any]]:
    """Every transaction and counter in the terminal's journal, read with SQLite's own client library."""
    with closing(sqlite3.connect(sim.data_dir / "terminal" / "journal.sqlite")) as db:
        return (
            db.execute("SELECT * FROM transactions ORDER BY trace").fetchall(),
            db.execute("SELECT * FROM counters ORDER BY name").fetchall(),
        )


def unchanged(sim: SimProcess) -> tuple[object, ...]:
    # The log may say what was refused; SQLite's -wal and -shm come and go with its connections.
    files = sorted(
        p.name for p in (sim.data_dir / "terminal").rglob("*") if not p.name.endswith(("log", "-wal", "-shm"))
    )
    return journal_rows(sim), sim.ledger_rows(), files


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.stdout == "", done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("flag", "device", "expect"),
    [
        ("--swipe", "/nonexistent/dev", "pos: swipe reader '/nonexistent/dev': No such file or directory"),
        ("--nfc", "bogus", "pos: contactless reader 'bogus' not found: check that it is plugged in"),
    ],
)
def test_a_reader_that_is_not_there_says_so_in_its_own_words(sim, flag, device, expect):
    pos_json(sim.config, "sale", "10.00")
    before = unchanged(sim)
    done = pos(sim.config, "sale", "5.00", flag, device)
    assert done.returncode == 1
    assert one_line(done) == expect
    assert unchanged(sim) == before


def test_a_journal_limit_beyond_any_number_is_a_range_error(sim):
    before = unchanged(sim)
    done = pos(sim.config, "journal", "--limit", "99999999999999999999")
    assert done.returncode == 2
    assert "--limit: must be a whole number from 1 to 10000" in one_line(done)
    assert unchanged(sim) == before


def test_usage_errors_in_json_mode_are_the_usual_json_object(sim):
    code, data = pos_json(sim.config, "journal", "--limit", "x")
    assert code == 2
    assert data["status"] == "error" and "--limit" in data["message"]
    code, data = pos_json(sim.config, "void", "abc")
    assert code == 2 and data["status"] == "error" and "not a voucher" in data["message"]


def _raw_pos(config: Path, *args: str, env: dict[str, Any] | None = None, stdin: bytes = b"") -> tuple[int, str]:
    """`pos` with bytes that are not UTF-8 in its environment or on its standard input."""
    done = subprocess.run(
        [*POS, "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.stdout == b""
    return done.returncode, done.stderr.decode("utf-8", errors="replace")


@pytest.mark.parametrize(
    ("args", "env", "stdin"),
    [
        (("signin", "--operator", "01"), {"POS_PIN": b"\xff\xfe12"}, b""),
        (("signin", "--operator", "01"), {}, b"\xff\xfe12\n"),
        (("void", "1"), {"POS_SUPERVISOR_PIN": b"12\xc3"}, b""),
        (("void", "1"), {}, b"\x80123456\n"),
    ],
)
def test_a_pin_that_is_not_text_is_told_pins_are_digits(sim, args, env, stdin):
    pos_json(sim.config, "sale", "10.00")
    before = unchanged(sim)
    code, err = _raw_pos(sim.config, *args, env=env, stdin=stdin)
    assert code == 1
    assert err.strip().splitlines() == [
        "pos: a PIN is digits only (so is the supervisor password): nothing was changed"
    ]
    assert unchanged(sim) == before


def test_a_date_without_dashes_finds_that_day(sim):
    _, sale = pos_json(sim.config, "sale", "10.00")
    day = (
        sale["local_date"]
        if "local_date" in sale
        else json.loads(pos(sim.config, "--json", "journal").stdout)["transactions"][0]["local_date"]
    )
    code, found = pos_json(sim.config, "journal", "--date", day.replace("-", ""))
    assert code == 0 and [t["trace"] for t in found["transactions"]] == [sale["trace"]]
