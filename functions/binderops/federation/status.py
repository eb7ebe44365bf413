"""The public status page: ``status/index.html`` for people, ``status/status.json`` for
machines, ``status/incidents.atom`` for feed readers. Static, no outside resources, rebuilt
after each probe round from one query per table (the probes twice: now, and by hour)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..clients.public import write_public
from ..core.config import Settings
from ..core.members import Member
from ..core.templates import render
from ..warehouse import Warehouse, schemas

HERE = Path(__file__).parent / "templates"
PERIODS = ("24h", "7d", "30d", "90d")
PAGE, JSON, FEED = "status/index.html", "status/status.json", "status/incidents.atom"


def _q(warehouse: Warehouse, name: str, now: datetime) -> list[dict[str, Any]]:
    return warehouse.query(schemas.sql_in(f"federation/{name}", warehouse.names), {"now": now})


def _stamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def document(warehouse: Warehouse, members: Sequence[Member], now: datetime) -> dict[str, Any]:
    """What the three files say, as one document (``status.json`` itself)."""
    found = {r["member"]: r for r in _q(warehouse, "status_members", now)}
    hours: dict[str, list[dict]] = {}
    for r in _q(warehouse, "status_hours", now):
        hours.setdefault(r["member"], []).append(r)
    listed = []
    for member in members:
        row = found.get(member.name)
        series = hours.get(member.name, [])
        launched = [
            (r["success"] or 0, r["failure"] or 0) for r in series if r["success"] is not None
        ]
        total = sum(s + f for s, f in launched)
        listed.append(
            {
                "name": member.name,
                "url": member.url,
                "state": "unknown" if row is None else ("up" if row["up"] else "down"),
                "since": _stamp(row["since"]) if row else None,
                "probed": _stamp(row["probed"]) if row else None,
                "failing": (row["failed_checks"] or row["error"] or None) if row else None,
                "version_drift": bool(row and row["drift"]),
                "response_ms": row["response_ms"] if row else None,
                "uptime": {
                    p: (
                        None
                        if row is None or row[f"uptime_{p}"] is None
                        else round(float(row[f"uptime_{p}"]), 5)
                    )
                    for p in PERIODS
                },
                # None: no launch in 7 days; "metrics" says whether it exposes /metrics at all.
                "launch_success_7d": (
                    round(sum(s for s, _ in launched) / total, 4) if total else None
                ),
                "metrics": bool(launched),
                "hours": [
                    {
                        "hour": _stamp(r["hour"]),
                        "up": round(float(r["up"]), 4),
                        "response_ms": None
                        if r["response_ms"] is None
                        else round(float(r["response_ms"]), 1),
                        "success": r["success"],
                        "failure": r["failure"],
                    }
                    for r in series
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
        for r in _q(warehouse, "status_incidents", now)
    ]
    return {"generated": _stamp(now), "members": listed, "incidents": incidents}


def _bars(values: Sequence[float | None], top: float, height: int = 24) -> list[dict]:
    """One bar per hour (168 slots for 7 days, the newest at the right): x, y and height of
    each known value scaled to ``top``."""
    if top <= 0:
        return []
    start = 168 - len(values)
    return [
        {
            "x": start + i,
            "y": round(height - height * min(v, top) / top, 2),
            "h": round(height * min(v, top) / top, 2),
        }
        for i, v in enumerate(values)
        if v is not None
    ]


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
                "response_bars": _bars(times, top),
                "response_top": round(top),
                "up_bars": _bars([h["up"] for h in member["hours"]], 1.0),
            }
        )
    write_public(JSON, json.dumps(found, indent=1).encode(), "application/json", settings)
    feed = render(
        HERE, "incidents.atom", generated=found["generated"], incidents=found["incidents"]
    )
    write_public(FEED, feed.encode(), "application/atom+xml", settings)
    page = render(HERE, "status.html", status={**found, "members": drawn}, periods=PERIODS)
    return write_public(PAGE, page.encode(), "text/html; charset=utf-8", settings)
