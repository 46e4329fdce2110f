"""The clock and the disk the journal lives on."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.journal.store import Store
from app.services.clock import CLOCK_SLACK
from app.services.health.check import Check, failed, passed

# This version was built in 2026; a clock before that was never set (a Pi without a real-time clock and without
# network time starts at the last time fake-hwclock saved, or at 1970).
EARLIEST = datetime(2026, 1, 1, tzinfo=UTC)

# The newest moment the journal knows of; each is served by an index (max of an indexed column).
_NEWEST = (
    "SELECT MAX(created_at) FROM transactions",
    "SELECT MAX(at) FROM audit",
    "SELECT MAX(COALESCE(finished_at, started_at)) FROM settlements",
)


@dataclass(frozen=True)
class DiskLimits:
    """Free space on the data directory. A 200,000-row journal is about 93 MB and a checkpoint needs room beside
    it; below `fail_bytes` a commit may fail in the middle of a counter day."""

    warn_bytes: int = 1_000_000_000
    fail_bytes: int = 100_000_000


def newest_entry(store: Store) -> datetime | None:
    moments = []
    for sql in _NEWEST:
        row = store.query_one(sql)
        if row is not None and row[0]:
            moments.append(datetime.fromisoformat(str(row[0]).replace("Z", "+00:00")))
    return max(moments, default=None)


def clock_check(now: datetime, store: Store | None) -> Check:
    part = "clock"
    shown = f"{now:%Y-%m-%d %H:%M %Z}".rstrip()
    if now < EARLIEST:
        return failed(part, f"says {shown}, before this software was built: set the date and time (network time)")
    newest = newest_entry(store) if store is not None else None
    if newest is not None and now < newest - CLOCK_SLACK:
        behind = _duration(newest - now)
        return failed(
            part,
            f"says {shown}, {behind} before the journal's last entry ({newest.astimezone(now.tzinfo):%Y-%m-%d %H:%M}):"
            " set the time (network time) before selling",
        )
    if store is None:
        return passed(part, f"{shown} (the journal could not be read to compare)", warning=True)
    return passed(part, f"{shown}, after the journal's last entry")


def _duration(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 36 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{minutes / (24 * 60):.0f} days"


def disk_check(directory: Path, limits: DiskLimits) -> Check:
    part = "disk"
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # the data directory may not exist yet on a new install
    free = shutil.disk_usage(existing).free
    text = f"{free / 1e6:,.0f} MB free for {directory}"
    if free < limits.fail_bytes:
        return failed(part, f"only {text}: free some space now, the journal may stop taking sales")
    if free < limits.warn_bytes:
        return passed(part, f"only {text}: free some space soon", warning=True)
    return passed(part, text)
