"""Runs the real `pos` command and a real `pos acquirer-sim` process, as a shop's scripts would."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

POS = [sys.executable, "-m", "app.cli.main"]
ROOT = Path(__file__).resolve().parents[2]


class SimProcess:
    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [*POS, "acquirer-sim", "--data-dir", str(data_dir), "--read-timeout", "1", "--late-seconds", "2", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if not first.startswith("acquirer simulator on "):
            self.proc.wait(10)
            error = self.proc.stderr.read() if self.proc.stderr else ""
            self.stop()
            raise RuntimeError(f"simulator did not start: {first!r} {error}")
        self.url = first.split()[-1]
        self.config = data_dir / "terminal.toml"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()

    def ledger_net(self, terminal_id: str = "KPOS0001") -> int:
        with sqlite3.connect(self.data_dir / "ledger.sqlite") as db:
            row = db.execute(
                "SELECT COALESCE(-SUM(balance_delta), 0) FROM requests WHERE terminal_id = ? AND status != 'reversed'",
                (terminal_id,),
            ).fetchone()
        return int(row[0])

    def ledger_rows(self) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data_dir / "ledger.sqlite") as db:
            return db.execute("SELECT stan, kind, status, amount_minor FROM requests ORDER BY stan").fetchall()


@pytest.fixture(name="sim")
def signed_in_simulator(tmp_path: Path) -> Iterator[SimProcess]:
    """A `pos acquirer-sim` process, and its terminal signed in by operator 01 through the real `pos signin`."""
    process = SimProcess(tmp_path / "acquirer")
    code, _ = pos_json(process.config, "signin", "--operator", "01", env={"POS_PIN": "0000"})
    assert code == 0
    yield process
    process.stop()


def pos(
    config: Path | None, *args: str, env: dict[str, str] | None = None, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    command = [*POS, *(["--config", str(config)] if config else []), *args]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=timeout, check=False
    )


def pos_json(config: Path | None, *args: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    done = pos(config, "--json", *args, **kw)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line, got {done.stdout!r} / {done.stderr!r}"
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(lines[0])


def wait_for(predicate: Any, timeout: float = 60.0) -> None:
    """Polls until `predicate()` holds; `timeout` is a ceiling for a slow CI machine, never what a test measures."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")
