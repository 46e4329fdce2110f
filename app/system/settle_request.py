"""The scheduled settlement's request to the running app: a file in the terminal's data directory.

The timer (systemd/kioskpos-settle.timer) runs `pos settle --auto`. The app holds the terminal lock all day
(app/services/lock.py), so the command cannot settle beside it, and waiting would wait until the app stops.
Instead it leaves this request, naming the batch to close, and the app settles at its next idle moment at the
home screen (app/ui/autosettle.py), between two sales rather than in the middle of one. A request whose batch
was closed meanwhile (by hand, or by the command while the app was stopped) is dropped, not obeyed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

NAME = "settle.request"


@dataclass(frozen=True)
class Request:
    batch: int
    requested_at: str


def path_in(data_dir: Path) -> Path:
    return data_dir / NAME


def leave(data_dir: Path, batch: int, now: datetime) -> Path:
    """Ask for a settlement of `batch`. Atomic: the app reads a whole request or none."""
    target = path_in(data_dir)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(f"batch={batch}\nrequested_at={now.isoformat(timespec='seconds')}\n")
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(target)
    return target


def pending(data_dir: Path) -> bool:
    return path_in(data_dir).exists()


def take(data_dir: Path) -> Request | None:
    """Remove the request and return it; None when there was none, or it was unreadable (it is removed then too)."""
    target = path_in(data_dir)
    try:
        text = target.read_text(encoding="ascii")
        target.unlink()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        target.unlink(missing_ok=True)
        return None
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    batch = fields.get("batch", "")
    if not batch.isdigit():
        return None
    return Request(int(batch), fields.get("requested_at", "unknown time"))
