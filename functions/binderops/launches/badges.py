"""Usage badges: "launches | 12.3k" for one repository, as an SVG a README can show.

A badge reads ``repo_launches_daily`` (per day, provider and repository, refreshed by each
publish run), never the launches themselves. Counts cover complete UTC days: the period
``30d`` is the 30 days before today. Nothing the request carries is drawn on the badge.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from xml.sax.saxutils import escape

from ..warehouse import schemas

PERIODS = {"7d": 7, "30d": 30, "1y": 365, "all": None}
DEFAULT_PERIOD = "30d"
GITHUB_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}")
MAX_REPO = 300
# Readers (GitHub's image proxy among them) may keep a badge an hour; an error a minute.
CACHE_CONTROL = "public, max-age=3600"
ERROR_CACHE_CONTROL = "public, max-age=60"
BLUE, GREY, RED = "#579aca", "#9f9f9f", "#e05d44"


@dataclass(frozen=True)
class BadgeRequest:
    provider: str
    repo: str  # lower case, as repo_launches_daily keeps it
    period: str


@dataclass(frozen=True)
class Badge:
    status: int
    svg: bytes
    headers: dict[str, str]


class BadRequest(ValueError):
    """A parameter the badge cannot be drawn for; the text says which."""


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


def since(period: str, today: date) -> date:
    days = PERIODS[period]
    return date.min if days is None else today - timedelta(days=days)


def launches(warehouse, request: BadgeRequest, today: date) -> int | None:
    """The repository's launches over the period, or None if it was never launched here."""
    first = since(request.period, today)
    found, total = False, 0
    for row in warehouse.query(schemas.sql("badge"), {"repo": request.repo}):
        if row["provider"] == request.provider:
            found = True
            total += row["launches"] if row["day"] >= first else 0
    return total if found else None


def short(count: int) -> str:
    """12345 → "12.3k", as badges show counts."""
    for limit, unit in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if count >= limit:
            value = count / limit
            text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
            return text.removesuffix(".0") + unit
    return str(count)


def _width(text: str) -> int:
    """Text width in pixels at 11 px Verdana, near enough for a badge."""
    return int(sum(7.5 if c.isupper() or c in "mw" else 6.2 for c in text)) + 10


def svg(label: str, value: str, color: str, title: str) -> bytes:
    left, right = _width(label), _width(value)
    total = left + right
    label, value, title = escape(label), escape(value), escape(title, {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        f'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{color}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'font-size="11"><text x="{left / 2}" y="14">{label}</text>'
        f'<text x="{left + right / 2}" y="14">{value}</text></g></svg>'
    ).encode()


def _badge(status: int, value: str, color: str, title: str, cache: str) -> Badge:
    headers = {"Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": cache}
    return Badge(status, svg("launches", value, color, title), headers)


def answer(args: Mapping[str, str], warehouse, today: date) -> Badge:
    """The badge for a request's query parameters: 200 with a count, 200 grey for a
    repository never launched, 400 with a readable red badge for a bad parameter."""
    try:
        request = parse(args)
    except BadRequest as e:
        return _badge(400, "bad request", RED, f"launches: {e}", ERROR_CACHE_CONTROL)
    count = launches(warehouse, request, today)
    period = "all time" if request.period == "all" else f"the last {request.period}"
    if count is None:
        title = "launches: no launches recorded for this repository"
        return _badge(200, "unknown", GREY, title, CACHE_CONTROL)
    title = f"launches: {count} over {period}"
    return _badge(200, short(count), BLUE, title, CACHE_CONTROL)
