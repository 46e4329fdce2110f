"""`pos doctor` and a damaged journal through the real `pos` command, against a real `pos acquirer-sim` process."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from app.devices.printing.profile import PROFILES
from app.journal.transactions import utc_text
from app.services.health import SALES_BLOCKED, UNREADABLE
from tests.integration.cli_rig import (
    SimProcess,
    pos,
    pos_json,
    signed_in_simulator,  # noqa: F401 (the `sim` fixture)
)
from tests.integration.health_rig import copy_journal, damaged_copy

NAMES = ["card readers", "printer", "acquirer", "client certificate", "acquirer CA", "clock", "journal", "disk"]


def beside(sim: SimProcess, journal: Path) -> Path:
    """A configuration for the same simulator whose terminal keeps its journal in `journal`'s directory."""
    config = journal.parent.with_suffix(".toml")
    text = sim.config.read_text(encoding="utf-8")
    assert 'data_dir = "terminal"' in text
    config.write_text(text.replace('data_dir = "terminal"', f'data_dir = "{journal.parent.name}"'), encoding="utf-8")
    return config


def journal_of(sim: SimProcess) -> Path:
    return sim.data_dir / "terminal" / "journal.sqlite"


def test_doctor_prints_one_line_per_check_and_exits_0_when_all_pass(sim):
    done = pos(sim.config, "doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(NAMES) + 1
    for line, name in zip(lines, NAMES, strict=False):
        assert line.startswith(f"OK    {name}: "), line
    assert lines[-1] == f"all {len(NAMES)} checks passed"
    code, data = pos_json(sim.config, "doctor")
    assert (code, data["status"], data["failed"]) == (0, "ok", [])
    assert [c["name"] for c in data["checks"]] == NAMES and all(c["ok"] for c in data["checks"])


def test_doctor_names_a_stopped_acquirer_and_still_checks_the_rest(sim):
    port = sim.url.rsplit(":", 1)[1]
    sim.stop()
    done = pos(sim.config, "doctor")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"FAIL  acquirer: nothing answers at 127.0.0.1:{port} (connection refused)" in done.stdout
    assert done.stdout.count("\nOK    ") == len(NAMES) - 2  # every other part, after the first line
    assert done.stdout.splitlines()[-1] == f"1 of {len(NAMES)} checks failed: acquirer"
    code, data = pos_json(sim.config, "doctor")
    assert (code, data["status"], data["failed"]) == (1, "error", ["acquirer"])


def test_doctor_writes_the_diagnostics_slip_to_files_or_prints_it(sim, tmp_path):
    png, escpos = tmp_path / "doctor.png", tmp_path / "doctor.bin"
    code, data = pos_json(sim.config, "doctor", "--preview", str(png), "--escpos", str(escpos))
    assert code == 0 and data["files"] == [str(png), str(escpos)]
    job = escpos.read_bytes()
    assert b"DIAGNOSTICS" in job and b"ALL CHECKS PASSED" in job and b"KPOS0001" in job and b"\x1dV" in job
    with Image.open(png) as picture:
        assert picture.width == PROFILES["80mm-chinese"].dots
    code, data = pos_json(sim.config, "doctor", "--print")
    assert code == 0 and data["printer_error"] is None and len(data["slips"]) == 1
    assert Path(data["slips"][0]).name.startswith("diagnostics-") and Path(data["slips"][0]).exists()


def test_a_damaged_journal_refuses_a_sale_in_one_line_and_still_answers_look_ups(sim, tmp_path):
    for amount in ("12.00", "13.00"):
        assert pos_json(sim.config, "sale", amount)[0] == 0
    config = beside(sim, damaged_copy(journal_of(sim), sim.data_dir / "damaged", "transactions_amount"))
    net = sim.ledger_net()

    sale = pos(config, "sale", "5.00")
    assert (sale.returncode, sale.stdout, sale.stderr) == (1, "", f"pos: {SALES_BLOCKED}\n")
    assert sim.ledger_net() == net
    code, status = pos_json(config, "status")
    assert code == 0 and status["sales_blocked"] == SALES_BLOCKED

    code, found = pos_json(config, "journal")
    assert code == 0 and [t["trace"] for t in found["transactions"]] == [2, 1]
    code, _ = pos_json(config, "reprint", "1", "--escpos", str(tmp_path / "r.bin"))
    assert code == 0 and b"DUPLICATE" in (tmp_path / "r.bin").read_bytes()
    unreadable = pos(config, "journal", "--amount", "12.00")
    assert (unreadable.returncode, unreadable.stdout, unreadable.stderr) == (1, "", f"pos: {UNREADABLE}\n")

    doctor = pos(config, "doctor")
    assert doctor.returncode == 1
    assert "FAIL  journal: damaged (" in doctor.stdout and "sales are disabled — call support" in doctor.stdout
    assert doctor.stdout.splitlines()[-1] == f"1 of {len(NAMES)} checks failed: journal"


def test_doctor_checks_everything_else_when_the_journal_cannot_be_opened(sim):
    config = beside(sim, damaged_copy(journal_of(sim), sim.data_dir / "unopenable", "header"))
    doctor = pos(config, "doctor")
    assert doctor.returncode == 1 and "Traceback" not in doctor.stderr
    journal = next(line for line in doctor.stdout.splitlines() if line.startswith("FAIL"))
    assert journal.startswith("FAIL  journal ") and "cannot be opened" in journal and journal.endswith("call support")
    assert "OK    acquirer: " in doctor.stdout and "OK    printer: " in doctor.stdout
    assert doctor.stdout.splitlines()[-1] == f"1 of {len(NAMES)} checks failed: journal"
    sale = pos(config, "sale", "5.00")
    assert sale.returncode == 1 and len(sale.stderr.splitlines()) == 1 and "cannot be opened" in sale.stderr


def test_doctor_fails_the_clock_when_the_journal_has_entries_from_later(sim):
    """A terminal whose clock went back finds entries "from the future" in its journal."""
    journal = copy_journal(journal_of(sim), sim.data_dir / "later")
    later = datetime.now(UTC) + timedelta(days=2)
    with sqlite3.connect(journal) as db:
        db.execute("INSERT INTO audit (at, actor, event, detail) VALUES (?, 'system', 'test', '')", (utc_text(later),))
    db.close()
    code, data = pos_json(beside(sim, journal), "doctor")
    clock = next(c for c in data["checks"] if c["name"] == "clock")
    assert (code, data["failed"]) == (1, ["clock"])
    assert "2 days before the journal's last entry" in clock["detail"] and "set the time" in clock["detail"]
