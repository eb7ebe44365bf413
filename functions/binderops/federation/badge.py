"""A member's uptime badge: ``?member=NAME&metric=uptime&period=30d`` on the badge function.
Every member's uptimes come from one query of the public ``member_health`` view, counted in
whole hours as the status page counts them, and kept for five minutes by each instance."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from ..core.badge import ERROR_CACHE_CONTROL, GREEN, GREY, RED, YELLOW, Badge, headers, svg
from ..warehouse import Warehouse
from . import query
from .status import PERIODS, uptime

KEEP_SECONDS = 300
CACHE_CONTROL = "public, max-age=300"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


class Uptimes:
    """Every member's uptime per period, reloaded when older than ``KEEP_SECONDS``."""

    def __init__(self, warehouse: Warehouse, clock: Callable[[], float] = time.monotonic) -> None:
        self.warehouse, self.clock = warehouse, clock
        self._lock = threading.Lock()
        self._loaded = -KEEP_SECONDS * 2.0
        self._uptimes: dict[str, dict[str, float | None]] = {}

    def of(self, member: str, now: datetime) -> dict[str, float | None] | None:
        with self._lock:
            if self.clock() - self._loaded > KEEP_SECONDS:
                hours: dict[str, list[dict]] = {}
                for r in query(self.warehouse, "uptime", {"now": now}):
                    hours.setdefault(r["member"], []).append(r)
                self._uptimes = {
                    member: {p: uptime(rows, now, days) for p, days in PERIODS.items()}
                    for member, rows in hours.items()
                }
                self._loaded = self.clock()
            return self._uptimes.get(member)


def answer(args: Mapping[str, str], uptimes: Uptimes, now: datetime) -> Badge:
    """200 with the uptime, 200 grey for a member never probed, 400 red for a bad request."""
    unknown = sorted(set(args) - {"member", "metric", "period"})
    member, period = args.get("member") or "", args.get("period") or "30d"
    problem = ""
    if unknown:
        problem = "unknown parameter: use member, metric and period"
    elif (args.get("metric") or "uptime") != "uptime":
        problem = "metric must be uptime"
    elif period not in PERIODS:
        problem = "period must be 24h, 7d, 30d or 90d"
    elif not _NAME.fullmatch(member):
        problem = "member is a name of the federation register"
    if problem:
        return Badge(
            400,
            svg("uptime", "bad request", RED, f"uptime: {problem}"),
            headers(ERROR_CACHE_CONTROL),
        )
    found = (uptimes.of(member, now) or {}).get(period)
    if found is None:
        title = f"uptime: {member} has not been probed over the last {period}"
        return Badge(200, svg("uptime", "unknown", GREY, title), headers(CACHE_CONTROL))
    value = float(found) * 100
    color = GREEN if value >= 99 else YELLOW if value >= 95 else RED
    shown = f"{value:.2f}%" if value < 100 else "100%"
    title = f"uptime: {member} was up {shown} of the probed minutes over the last {period}"
    return Badge(200, svg(f"uptime {period}", shown, color, title), headers(CACHE_CONTROL))
