"""The public status page: ``status/index.html`` for people, ``status/status.json`` for
machines, ``status/incidents.atom`` for feed readers. Static, no outside resources, rebuilt
after each probe round from one query per table: the probes by member and hour, the
incidents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..clients.public import write_public
from ..core.config import Settings
from ..core.members import Member
from ..core.templates import render
from ..warehouse import Warehouse
from . import query

HERE = Path(__file__).parent / "templates"
PERIODS = {"24h": 1, "7d": 7, "30d": 30, "90d": 90}
PAGE, JSON, FEED = "status/index.html", "status/status.json", "status/incidents.atom"


def _stamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def uptime(hours: Sequence[dict], now: datetime, days: float) -> float | None:
    """The share of probes up in the whole hours of the last ``days`` before ``now``, from
    rows of ``hour``, ``probes`` and ``ups``: the status page's and the badge's."""
    since = now - timedelta(days=days)
    probes = ups = 0
    for r in hours:
        if r["hour"] + timedelta(hours=1) > since:
            probes, ups = probes + int(r["probes"]), ups + int(r["ups"])
    return round(ups / probes, 5) if probes else None


def document(warehouse: Warehouse, members: Sequence[Member], now: datetime) -> dict[str, Any]:
    """What the three files say, as one document (``status.json`` itself): from one query of
    the probes (by member and hour, with each member's latest probe) and one of incidents."""
    hours: dict[str, list[dict]] = {}
    for r in query(warehouse, "status_hours", {"now": now}):
        hours.setdefault(r["member"], []).append(r)
    week = now - timedelta(days=7)
    listed = []
    for member in members:
        series = hours.get(member.name, [])
        row = next((r for r in series if r["latest_minute"] is not None), None)
        recent = [r for r in series if r["hour"] > week - timedelta(hours=1)]
        launched = [
            (r["success"] or 0, r["failure"] or 0) for r in recent if r["success"] is not None
        ]
        total = sum(s + f for s, f in launched)
        listed.append(
            {
                "name": member.name,
                "url": member.url,
                "state": "unknown" if row is None else ("up" if row["latest_up"] else "down"),
                "since": _stamp(row["latest_since"]) if row else None,
                "probed": _stamp(row["latest_minute"]) if row else None,
                "failing": (row["latest_failed_checks"] or row["latest_error"]) if row else None,
                "version_drift": bool(row and row["latest_drift"]),
                "response_ms": row["latest_response_ms"] if row else None,
                "uptime": {p: uptime(series, now, days) for p, days in PERIODS.items()},
                # None: no launch in 7 days; "metrics" says whether it exposes /metrics at all.
                "launch_success_7d": (
                    round(sum(s for s, _ in launched) / total, 4) if total else None
                ),
                "metrics": bool(launched),
                "hours": [
                    {
                        "hour": _stamp(r["hour"]),
                        "up": round(int(r["ups"]) / int(r["probes"]), 4),
                        "response_ms": None
                        if r["response_ms"] is None
                        else round(float(r["response_ms"]), 1),
                        "success": r["success"],
                        "failure": r["failure"],
                    }
                    for r in recent
                ],
            }
        )
    incidents = [
        {
            "id": r["incident_id"],
            "policy": r["policy"],
            "condition": r["condition"],
            "started": _stamp(r["started"]),
            "ended": _stamp(r["ended"]),
            "duration_seconds": r["duration_seconds"],
            # A link only to a web page: nothing else from a notification becomes a link.
            "report": r["issue_url"] if str(r["issue_url"] or "").startswith("https://") else None,
        }
        for r in query(warehouse, "status_incidents", {"now": now})
    ]
    return {"generated": _stamp(now), "members": listed, "incidents": incidents}


def _bars(
    hours: Sequence[dict], key: str, top: float, now: datetime, height: int = 24
) -> list[dict]:
    """One bar per hour of the last 7 days (168 slots, the newest at the right, a gap where
    nothing was probed): x, y and height of each known value scaled to ``top``."""
    if top <= 0:
        return []
    last = now.replace(minute=0, second=0, microsecond=0)
    bars = []
    for hour in hours:
        value = hour[key]
        if value is None:
            continue
        at = datetime.fromisoformat(hour["hour"].replace("Z", "+00:00"))
        x = 167 - int((last - at).total_seconds() // 3600)
        scaled = round(height * min(value, top) / top, 2)
        if 0 <= x < 168:
            bars.append({"x": x, "y": round(height - scaled, 2), "h": scaled})
    return bars


def publish(
    warehouse: Warehouse, members: Sequence[Member], settings: Settings, now: datetime
) -> str:
    """Write the three files; return where the page went."""
    import json

    found = document(warehouse, members, now)
    drawn = []
    for member in found["members"]:
        times = [h["response_ms"] for h in member["hours"]]
        top = max((t for t in times if t is not None), default=0.0)
        drawn.append(
            {
                **member,
                "response_bars": _bars(member["hours"], "response_ms", top, now),
                "response_top": round(top),
                "up_bars": _bars(member["hours"], "up", 1.0, now),
            }
        )
    write_public(JSON, json.dumps(found, indent=1).encode(), "application/json", settings)
    feed = render(
        HERE, "incidents.atom", generated=found["generated"], incidents=found["incidents"]
    )
    write_public(FEED, feed.encode(), "application/atom+xml", settings)
    page = render(HERE, "status.html", status={**found, "members": drawn}, periods=PERIODS)
    return write_public(PAGE, page.encode(), "text/html; charset=utf-8", settings)
