"""Time, as a port: the real clock in production, a settable one in tests of date rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current local time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now().astimezone()


# NTP steps and a slow real-time clock drift by seconds; a clock set back by hand or by a flat RTC battery after a
# power cut is out by hours or days. Between the two: a few minutes. The doctor's clock check uses the same.
CLOCK_SLACK = timedelta(minutes=5)


def behind_journal(now: datetime, latest: datetime | None) -> str | None:
    """Why money may not move because the clock is earlier than the journal's newest entry, or None.

    Dates that run backwards break the day's look-ups, settlement cut-offs and the acquirer's own checks."""
    if latest is None or now >= latest - CLOCK_SLACK:
        return None
    return (
        f"the clock says {_minute(now)} UTC, earlier than the journal's last transaction at {_minute(latest)} UTC: "
        "set the date and time right; no sales, refunds or settlement until then"
    )


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
