"""The data directory and its journal, broken for real (read-only mounts, a dropped table, a truncated file, a
path that is no directory): one line naming the path and what to do, and nothing written anywhere."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.integration.cli_rig import (  # noqa: F401 (the `sim` fixture)
    POS,
    ROOT,
    SimProcess,
    pos,
    pos_json,
    signed_in_simulator,
)
from tests.integration.test_cli_input import one_line, unchanged

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="read-only bind mounts need root")


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """A read-only bind mount over a directory or a single file: chmod does not stop root, this does."""
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


def _data_dir(sim: SimProcess) -> Path:
    return sim.data_dir / "terminal"


@needs_root
def test_a_read_only_data_directory_is_one_line_naming_it(sim):
    pos_json(sim.config, "sale", "10.00")
    before = unchanged(sim)
    with read_only(_data_dir(sim)):
        done = pos(sim.config, "status")
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith(f"pos: data directory {_data_dir(sim)} is read-only: mount it read-write"), line
    assert "internal error" not in line
    assert unchanged(sim) == before


@needs_root
def test_a_read_only_journal_file_is_one_line_naming_it(sim):
    pos_json(sim.config, "sale", "10.00")
    before = unchanged(sim)
    journal = _data_dir(sim) / "journal.sqlite"
    with read_only(journal):
        done = pos(sim.config, "sale", "5.00")
    assert done.returncode == 1
    assert one_line(done).startswith(f"pos: journal file {journal} cannot be written (read-only)")
    assert unchanged(sim) == before


def test_a_journal_with_a_dropped_table_is_refused_at_the_door(sim):
    pos_json(sim.config, "sale", "10.00")
    with closing(sqlite3.connect(_data_dir(sim) / "journal.sqlite")) as db:
        db.execute("DROP TABLE transactions")
        db.commit()
    ledger = sim.ledger_rows()
    done = pos(sim.config, "sale", "5.00")
    assert done.returncode == 1
    line = one_line(done)
    assert "journal.sqlite is damaged (its table transactions is gone): restore journal.sqlite" in line, line
    assert sim.ledger_rows() == ledger


@pytest.mark.parametrize(
    ("data_dir", "expect"),
    [
        ("/dev/null", "is under /dev, which holds no files"),
        ("/proc/kioskpos", "is under /proc, which holds no files"),
        ("a-file", "is a file, not a directory"),
        ("a-file/terminal", "cannot be created (Not a directory)"),
    ],
)
def test_a_data_dir_that_cannot_be_one_is_one_line_naming_it(sim, data_dir, expect):
    (sim.data_dir / "a-file").write_text("not a directory")
    text = sim.config.read_text().replace('data_dir = "terminal"', f'data_dir = "{data_dir}"')
    config = sim.data_dir / "elsewhere.toml"
    config.write_text(text)
    done = pos(config, "status")
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith("pos: data directory ") and expect in line, line
    assert "set [terminal] data_dir to a directory on the disk" in line
    assert (sim.data_dir / "a-file").read_text() == "not a directory"


@pytest.mark.parametrize("how", ["truncated", "deleted"])
def test_a_lost_journal_beside_a_used_terminal_is_not_taken_for_a_new_one(sim, how):
    pos_json(sim.config, "sale", "10.00")
    journal = _data_dir(sim) / "journal.sqlite"
    if how == "truncated":
        journal.write_bytes(b"")
    else:
        journal.unlink()
    for command in (("status",), ("sale", "5.00")):
        done = pos(sim.config, *command)
        assert done.returncode == 1
        line = one_line(done)
        assert f"the journal {journal} is {'empty' if how == 'truncated' else 'missing'}" in line, line
        assert "restore journal.sqlite from its backup" in line
    assert journal.exists() == (how == "truncated") and (not journal.exists() or journal.stat().st_size == 0)
    assert [row[0] for row in sim.ledger_rows()] == [1]


def _pos_with_umask(config: Path, *args: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        [*POS, "--config", str(config), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=60,
        check=False,
        preexec_fn=lambda: os.umask(0o022),  # what a shell gives `pos`
    )
    assert done.returncode == 0, done.stderr


def test_everything_a_day_writes_is_the_owners_only_whatever_the_umask(tmp_path):
    sim = SimProcess(tmp_path / "acquirer")
    try:
        _pos_with_umask(sim.config, "signin", "--operator", "01", env={"POS_PIN": "0000"})
        _pos_with_umask(sim.config, "sale", "10.00")
        _pos_with_umask(sim.config, "settle")
        _pos_with_umask(sim.config, "reprint")
    finally:
        sim.stop()
    data_dir = _data_dir(sim)
    written = [data_dir, *data_dir.rglob("*")]
    names = {p.name for p in written}
    assert {"journal.sqlite", "pos.log", "000001-merchant.png", "slips"} <= names
    modes = {str(p.relative_to(sim.data_dir)): oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert modes == {name: "0o700" if (sim.data_dir / name).is_dir() else "0o600" for name in modes}


def test_a_log_that_cannot_be_opened_is_one_line_naming_it(sim):
    pos_json(sim.config, "sale", "10.00")
    log = _data_dir(sim) / "pos.log"
    log.unlink()
    log.mkdir()  # something in the way where the log goes
    (log / "keep").write_text("")
    before = unchanged(sim)
    done = pos(sim.config, "sale", "5.00")
    assert done.returncode == 1
    assert one_line(done).startswith(f"pos: log file {log} cannot be written (Is a directory)")
    assert unchanged(sim) == before
