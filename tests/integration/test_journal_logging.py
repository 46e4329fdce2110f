"""Logging under systemd: stderr is the journal when JOURNAL_STREAM names it, and then gets `<N>` priorities,
no timestamps, the configured level, and card numbers masked like every other log line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli_rig import ROOT, SimProcess, pos

PAN = "4761739001010010"
MASKED = "476173******0010"
TRACK2 = f"{PAN}=25122011000012300000"

LOGGING_SCRIPT = f"""
import logging, sys
from app import logs
logs.configure(sys.argv[1], None, console_level=logging.CRITICAL)
log = logging.getLogger("app.example")
log.debug("debug line")
log.info("card {PAN} read")
log.warning("track {TRACK2}")
try:
    raise ValueError("bad card {PAN}")
except ValueError:
    log.exception("failed")
"""


def run_logging(tmp_path: Path, level: str, journal_stream: str | None) -> str:
    """The real logs.configure() in a child process whose stderr is a file; JOURNAL_STREAM as systemd sets it."""
    err = tmp_path / "stderr"
    with open(err, "wb") as stderr:
        st = os.fstat(stderr.fileno())
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        if journal_stream is not None:
            env["JOURNAL_STREAM"] = journal_stream.format(dev=st.st_dev, ino=st.st_ino)
        subprocess.run(
            [sys.executable, "-c", LOGGING_SCRIPT, level], stderr=stderr, env=env, cwd=ROOT, check=True, timeout=60
        )
    return err.read_text(encoding="utf-8")


def test_journal_lines_have_priorities_no_timestamps_and_masked_card_numbers(tmp_path: Path) -> None:
    text = run_logging(tmp_path, "INFO", "{dev}:{ino}")
    lines = text.splitlines()
    assert f"<6>app.example: card {MASKED} read" in lines
    assert f"<4>app.example: track {MASKED}=<track data removed>" in lines
    assert "<3>app.example: failed" in lines
    assert PAN not in text and "2512201" not in text
    assert "debug line" not in text  # below the configured level
    # Every line of the traceback keeps the error's priority, so the journal files it as an error too.
    assert all(line.startswith("<") for line in lines), lines
    assert any(line.startswith("<3>ValueError: bad card " + MASKED) for line in lines), lines
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", text)  # the journal stamps the time itself


def test_level_comes_from_the_configuration(tmp_path: Path) -> None:
    assert "<7>app.example: debug line" in run_logging(tmp_path, "DEBUG", "{dev}:{ino}").splitlines()
    quiet = run_logging(tmp_path, "ERROR", "{dev}:{ino}")
    assert "read" not in quiet and "track" not in quiet and "<3>app.example: failed" in quiet.splitlines()


@pytest.mark.parametrize("stream", [None, "{dev}:999999999", "garbage"])
def test_stderr_that_is_not_the_journal_keeps_the_console_quiet(tmp_path: Path, stream: str | None) -> None:
    """An inherited or wrong JOURNAL_STREAM (another file's inode) is not the journal: the console stays as it was."""
    assert run_logging(tmp_path, "DEBUG", stream) == ""


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    process = SimProcess(tmp_path / "sim")
    yield process
    process.stop()


def pos_sale_logged(sim: SimProcess, tmp_path: Path, level: str) -> list[str]:
    """A signed-in sale by the real `pos` command with [logging] level set, its stderr named by JOURNAL_STREAM."""
    config = sim.data_dir / f"{level}.toml"  # beside terminal.toml, so its relative paths still hold
    config.write_text(sim.config.read_text() + f'\n[logging]\nlevel = "{level}"\n', encoding="utf-8")
    assert pos(config, "signin", "--operator", "01", env={"POS_PIN": "0000"}).returncode == 0
    err = tmp_path / f"{level}.stderr"
    with open(err, "wb") as stderr:
        st = os.fstat(stderr.fileno())
        subprocess.run(
            [sys.executable, "-m", "app.cli.main", "--config", str(config), "sale", "12.34"],
            stderr=stderr,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"},
            cwd=ROOT,
            timeout=60,
            check=True,
        )
    return err.read_text(encoding="utf-8").splitlines()


def test_a_pos_command_logs_to_the_journal_at_the_configured_level(sim: SimProcess, tmp_path: Path) -> None:
    lines = pos_sale_logged(sim, tmp_path, "INFO")
    assert all(re.match(r"<[2-7]>", line) for line in lines), lines
    approved = [line for line in lines if line.startswith("<6>app.services.online: ") and "approved" in line]
    assert approved and MASKED in approved[0]
    assert not any(PAN in line for line in lines)
    assert pos_sale_logged(sim, tmp_path, "WARNING") == []  # an approved sale has nothing to warn about
