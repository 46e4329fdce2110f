"""One process at a time drives a terminal: the card reader, the printer and the journal's sequence are single."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from app.services.errors import PosError


class TerminalLock:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(data_dir / "terminal.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise PosError("the terminal is in use by another program (the app, or another pos command)") from None

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1
