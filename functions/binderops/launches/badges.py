"""Usage badges: "launches | 12.3k" for one repository, as an SVG a README can show.

A badge is answered from memory: each instance holds every repository's launches over each
period (``Counts``), loaded from ``repo_launches_daily`` (per day, provider and repository,
refreshed by each publish run), never from the launches themselves. Counts cover complete
UTC days: the period ``30d`` is the 30 days before today. Nothing the request carries is
drawn on the badge.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cache

from ..core import logs
from ..core.badge import BLUE, ERROR_CACHE_CONTROL, GREY, RED, Badge, headers, svg
from ..core.errors import Drop, Retry
from ..warehouse import Warehouse, schemas

# badge_counts.sql has a column per period, in this order: launches_7d, launches_30d, ...
PERIODS = ("7d", "30d", "1y", "all")
DEFAULT_PERIOD = "30d"
# How long an instance answers from the counts it loaded: as long as readers may keep a
# badge anyway (CACHE_CONTROL), so a publish run shows within the hour wherever it is read.
COUNTS_SECONDS = 3600
# After a failed reload, older counts are answered for this long before the next try.
RETRY_SECONDS = 60
GITHUB_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}")
MAX_REPO = 300
# Readers (GitHub's image proxy among them) may keep a badge an hour; an error a minute.
CACHE_CONTROL = "public, max-age=3600"


@dataclass(frozen=True)
class BadgeRequest:
    provider: str
    repo: str  # lower case, as repo_launches_daily keeps it
    period: str


class BadRequest(Drop):
    """A parameter the badge cannot be drawn for; the text says which."""

    kind = "bad_request"


@cache
def providers() -> dict[str, str]:
    """The launch schema's providers (its latest version's), by the lower-case name a URL
    may carry."""
    latest = schemas.launch_event_schemas()[max(schemas.launch_event_schemas())]
    return {p.lower(): p for p in latest["properties"]["provider"]["enum"]}


def parse(args: Mapping[str, str]) -> BadgeRequest:
    unknown = sorted(set(args) - {"repo", "provider", "period"})
    if unknown:
        raise BadRequest("unknown parameter: use repo, provider and period")
    provider = providers().get((args.get("provider") or "GitHub").lower())
    if provider is None:
        raise BadRequest("provider must be one of " + ", ".join(providers().values()))
    period = args.get("period") or DEFAULT_PERIOD
    if period not in PERIODS:
        raise BadRequest("period must be 7d, 30d, 1y or all")
    repo = (args.get("repo") or "").strip().strip("/")
    if not repo:
        raise BadRequest("repo is required, e.g. ?repo=binder-examples/requirements")
    if len(repo) > MAX_REPO or not repo.isprintable():
        raise BadRequest("repo is not a repository name")
    if provider == "GitHub" and not GITHUB_REPO.fullmatch(repo):
        raise BadRequest("a GitHub repo is owner/name")
    return BadgeRequest(provider, repo.lower(), period)


@dataclass(frozen=True)
class Snapshot:
    today: date  # the periods end before this day
    loaded: float  # Counts.clock() when loaded, or last found current
    modified: str | None  # repo_launches_daily's Warehouse.modified() before the load
    # provider → repository (lower case) → launches per period, in PERIODS order
    launches: dict[str, dict[str, tuple[int, ...]]]


class Counts:
    """Every repository's launches over each period, as one instance answers badges.

    A lookup in the warehouse per badge costs a query (on DuckDB, about 1.5 ms of a badge's
    time; on BigQuery, a job), while the counts change only when a publish run refreshes
    the aggregate. So the instance loads them all with one query (``badge_counts.sql``)
    and answers from memory. Once they are ``max_age`` seconds old it loads them again,
    unless the UTC day is the same and the warehouse says the aggregate has not changed
    since (BigQuery's table metadata: that check is free, a load reads the whole table).
    One request reloads while the others answer from the older counts; only the
    instance's first badges wait. A failed reload keeps the older counts for
    ``RETRY_SECONDS`` more; with none loaded yet, it raises ``Retry`` (503).
    """

    def __init__(
        self,
        warehouse: Warehouse,
        max_age: float = COUNTS_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.warehouse = warehouse
        self.max_age = max_age
        self.clock = clock
        self._snapshot: Snapshot | None = None
        self._retry_at = 0.0
        self._loading = threading.Lock()

    def launches(self, request: BadgeRequest, today: date) -> int | None:
        """The repository's launches over the period, or None if it was never launched
        from that provider."""
        found = self._current(today).launches.get(request.provider, {}).get(request.repo)
        return None if found is None else found[PERIODS.index(request.period)]

    def _current(self, today: date) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and (self._fresh(snapshot, today) or self.clock() < self._retry_at):
            return snapshot
        if snapshot is not None and not self._loading.acquire(blocking=False):
            return snapshot  # another request is loading newer counts
        if snapshot is None:
            self._loading.acquire()  # the instance's first badges wait for the counts
        try:
            snapshot = self._snapshot
            if snapshot is None or not self._fresh(snapshot, today):
                snapshot = self._reload(snapshot, today)
            return snapshot
        finally:
            self._loading.release()

    def _fresh(self, snapshot: Snapshot, today: date) -> bool:
        return snapshot.today == today and self.clock() - snapshot.loaded < self.max_age

    def _reload(self, older: Snapshot | None, today: date) -> Snapshot:
        start = self.clock()
        try:
            # Read before the rows: a change in between is loaded again next time.
            modified = self.warehouse.modified("repo_launches_daily")
            if older and older.today == today and modified and modified == older.modified:
                self._snapshot = replace(older, loaded=self.clock())
                return self._snapshot
            rows = self.warehouse.query(schemas.sql("badge_counts"), {"today": today})
        except Retry as e:
            if older is None:
                raise
            self._retry_at = self.clock() + RETRY_SECONDS
            logs.log.warning("usage_badge: answering older counts; loading them failed: %s", e)
            return older
        columns = [f"launches_{period}" for period in PERIODS]
        launches: dict[str, dict[str, tuple[int, ...]]] = {}
        for row in rows:
            repos = launches.setdefault(row["provider"], {})
            repos[row["repo"]] = tuple(row[column] for column in columns)
        self._snapshot = Snapshot(today, self.clock(), modified, launches)
        repositories = sum(map(len, launches.values()))
        seconds = self.clock() - start
        logs.log.info(
            "usage_badge: loaded launch counts of %d repositories before %s in %.2f s",
            repositories,
            today,
            seconds,
        )
        return self._snapshot


def short(count: int) -> str:
    """12345 → "12.3k", as badges show counts."""
    for limit, unit in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if count >= limit:
            value = count / limit
            text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
            return text.removesuffix(".0") + unit
    return str(count)


def _badge(status: int, value: str, color: str, title: str, cache: str) -> Badge:
    return Badge(status, svg("launches", value, color, title), headers(cache))


def answer(args: Mapping[str, str], counts: Counts, today: date) -> Badge:
    """The badge for a request's query parameters: 200 with a count, 200 grey for a
    repository never launched, 400 with a readable red badge for a bad parameter."""
    try:
        request = parse(args)
    except BadRequest as e:
        return _badge(400, "bad request", RED, f"launches: {e}", ERROR_CACHE_CONTROL)
    count = counts.launches(request, today)
    period = "all time" if request.period == "all" else f"the last {request.period}"
    if count is None:
        title = "launches: no launches recorded for this repository"
        return _badge(200, "unknown", GREY, title, CACHE_CONTROL)
    title = f"launches: {count} over {period}"
    return _badge(200, short(count), BLUE, title, CACHE_CONTROL)
