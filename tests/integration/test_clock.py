"""A clock set back (a flat RTC battery, a hand on the settings): no money moves until it is right again.

The `pos` process's clock is really moved, with libfaketime (apt faketime); the simulator keeps the true time."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.cli_rig import (  # noqa: F401 (the `sim` fixture)
    POS,
    ROOT,
    pos,
    pos_json,
    signed_in_simulator,
)
from tests.integration.test_cli_input import one_line, unchanged

pytestmark = pytest.mark.skipif(shutil.which("faketime") is None, reason="apt faketime (make setup installs it)")


def pos_at(
    offset: str, config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`pos` with its clock moved by `offset` ("-1d", "-3m"), as if the terminal's clock said so."""
    return subprocess.run(
        ["faketime", "-f", offset, *POS, "--config", str(config), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_a_clock_set_back_a_day_refuses_sales_refunds_and_settlement_until_it_is_right(sim):
    cfg = sim.config
    _, first = pos_json(cfg, "sale", "10.00")
    before = unchanged(sim)
    for command, env in (
        (("sale", "5.00"), {}),
        (("refund", str(first["trace"]), "5.00"), {"POS_SUPERVISOR_PIN": "123456"}),
        (("void", str(first["trace"])), {"POS_SUPERVISOR_PIN": "123456"}),
        (("settle",), {}),
    ):
        done = pos_at("-1d", cfg, *command, env=env)
        assert done.returncode == 1, command
        line = one_line(done)
        assert "earlier than the journal's last transaction" in line and "set the date and time right" in line, line
    assert unchanged(sim) == before

    # A few minutes of drift is not a clock set back; once the clock is right, the counter goes on.
    done = pos_at("-2m", cfg, "--json", "sale", "6.00")
    assert done.returncode == 0, done.stderr
    code, later = pos_json(cfg, "sale", "7.00")
    assert code == 0 and later["status"] == "approved"
    done = pos(cfg, "settle")
    assert done.returncode == 0, done.stderr
