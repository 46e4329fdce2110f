"""Named crash points for the crash tests: the process dies right there, as with a power cut.

Inert unless KIOSKPOS_CRASH_AT names the point (the SIGKILL tests) or a test installs `hook` (in-process
property tests, which raise instead of dying). Each point sits between two durable steps of the engine.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

CRASH_POINTS = ("before_send", "after_response", "after_commit", "during_reversal", "during_settlement")

hook: Callable[[str], None] | None = None


def checkpoint(name: str) -> None:
    if hook is not None:
        hook(name)
    if os.environ.get("KIOSKPOS_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
