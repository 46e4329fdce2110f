"""The data directory, checked before anything is written into it (the log is the first thing that is).

Each problem is one line naming the path and what to do: a read-only mount, a path that is not a directory on a
disk, or a journal that has gone while the terminal's other files show it was in use here.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.config import Settings
from app.errors import UserFacingError

# Kernel and device trees hold no files of ours: a data_dir there is a typo, and writes fail in odd ways.
_NOT_A_DISK = (Path("/proc"), Path("/sys"), Path("/dev"))
_FIX = "set [terminal] data_dir to a directory on the disk, such as /var/lib/kioskpos"


class DataDirError(UserFacingError):
    """The data directory cannot hold the journal, the log or the slips."""


def prepare(settings: Settings) -> None:
    """The data directory exists (made 0700), is writable, and still has the journal it had. Raises DataDirError."""
    data_dir = settings.terminal.data_dir
    _check_place(data_dir)
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"data directory {data_dir} cannot be created ({exc.strerror}): {_FIX}") from None
    if not os.access(data_dir, os.W_OK):
        raise DataDirError(
            f"data directory {data_dir} is read-only: mount it read-write (or fix its permissions), or {_FIX}"
        )
    _check_journal_is_there(settings)


def _check_place(data_dir: Path) -> None:
    resolved = data_dir.resolve()
    for tree in _NOT_A_DISK:
        if resolved == tree or tree in resolved.parents:
            raise DataDirError(f"data directory {data_dir} is under {tree}, which holds no files: {_FIX}")
    if resolved.exists() and not resolved.is_dir():
        raise DataDirError(f"data directory {data_dir} is a file, not a directory: {_FIX}")


def _check_journal_is_there(settings: Settings) -> None:
    """An empty or missing journal beside a used terminal's files is a lost journal, not a new terminal: starting
    afresh would restart voucher numbers at 1 and the acquirer would decline every sale as a duplicate."""
    journal = settings.journal_path
    if journal.exists() and journal.stat().st_size > 0:
        return
    evidence = used_here(settings)
    if evidence:
        state = "empty" if journal.exists() else "missing"
        raise DataDirError(
            f"the journal {journal} is {state}, but this terminal was used here ({', '.join(evidence)}): "
            "restore journal.sqlite from its backup, or call support; it will not start with a new journal"
        )


def used_here(settings: Settings) -> list[str]:
    """What in the data directory shows that a journal was written here before."""
    found: list[str] = []
    log = settings.log_path
    logs = [p for p in (log, *log.parent.glob(log.name + ".*")) if p.is_file() and p.stat().st_size > 0]
    if logs:
        found.append(f"its log {log.name}")
    slips = settings.printer.preview_dir or settings.terminal.data_dir / "slips"
    if slips.is_dir() and any(slips.iterdir()):
        found.append(f"slips in {slips}")
    wal = settings.journal_path.with_name(settings.journal_path.name + "-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        found.append(f"the journal's write-ahead log {wal.name}")
    return found
