"""One self-test result, and the guard that keeps a check that breaks from breaking the others."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("app.services.health")


@dataclass(frozen=True)
class Check:
    """`detail` is one line a shop owner or installer can act on, and starts with the part's name."""

    name: str
    ok: bool
    detail: str
    # Passes, but somebody should act soon: a certificate near expiry, paper low, the disk filling up.
    warning: bool = False

    @property
    def mark(self) -> str:
        return "FAIL" if not self.ok else "WARN" if self.warning else "OK"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "warning": self.warning, "detail": self.detail}


def passed(name: str, text: str, *, warning: bool = False) -> Check:
    return Check(name, True, f"{name}: {text}", warning)


def failed(name: str, text: str) -> Check:
    return Check(name, False, f"{name}: {text}")


def guarded(name: str, run: Callable[[], Check]) -> Check:
    """Run one check; whatever it raises becomes a failed check naming the part. The traceback goes to the log
    only: the person reading the result needs to know which part, not where in the code."""
    try:
        return run()
    except Exception as exc:
        log.warning("the %s check broke", name, exc_info=True)
        return failed(name, f"the check itself failed ({type(exc).__name__}); details are in the log")
