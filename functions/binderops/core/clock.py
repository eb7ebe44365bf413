"""What day it is, in one place: every capability counts complete days from it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def today_in(tz: str = "UTC", now: datetime | None = None) -> date:
    """Today's date in the IANA time zone ``tz`` (at ``now``, by default the present)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).date()
