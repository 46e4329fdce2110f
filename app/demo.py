"""Demo mode: with no --config, the terminal talks to an acquirer simulator started in this process.

Its ledger, certificates and the terminal's journal live under the user's data directory, so a demo day
carries over from one command to the next.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

from app.config import Settings, load_settings
from app.sim.home import SimOptions, SimulatorHome


def demo_home() -> Path:
    override = os.environ.get("KIOSKPOS_DEMO_DIR")
    return Path(override) if override else platformdirs.user_data_path("kioskpos") / "demo"


@contextmanager
def demo_settings() -> Iterator[Settings]:
    home = SimulatorHome(demo_home())
    server = home.start(SimOptions())
    try:
        yield load_settings(home.terminal_config)
    finally:
        server.stop()
        home.ledger.close()
