"""The public dashboard: ``dashboard/index.html`` written at publish time, and
``dashboard/live.json`` rewritten every minute, which the page fetches every minute.

No server of ours answers page views: both are static files in the public bucket (or
folder). Everything on the page comes from the public tables, drawn as SVG with a table
behind each chart; the page needs no network beyond its own ``live.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path

from ..clients.public import write_public
from ..core.config import Settings
from ..core.members import UNREGISTERED
from ..core.templates import Markup, render
from ..federation import query as federation_query
from ..federation.status import uptime as federation_uptime
from ..warehouse import Warehouse, schemas
from . import charts, headline
from .charts import Table

HERE = Path(__file__).resolve().parent  # page.html beside this module
PAGE = "dashboard/index.html"
LIVE = "dashboard/live.json"
DAYS = 30
DELIVERY_WEEKS = 12  # the deploys and incidents shown, and the DORA figures' period
LIVE_MINUTES = 60
# Members drawn one by one (with "other members", one per colour of the palette).
MAX_MEMBERS = len(charts.COLOURS) - 1
OTHER = "other members"


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: str  # chart SVG or a note
    table: Table | None
    note: str = ""


def _q(warehouse: Warehouse, name: str, params: dict) -> list[dict]:
    return warehouse.query(schemas.sql_in(f"dashboard/{name}", warehouse.names), params)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def grouped(rows: list[dict], keep: int = MAX_MEMBERS) -> dict[str, str]:
    """Each origin of ``rows`` (with their launches) in its place on the page: the ``keep``
    largest by launches as themselves, the rest together as ``OTHER``. Origins are whatever
    launch events say, so without this a sender could grow the page without bound (one
    series, legend entry and column each)."""
    launches: dict[str, int] = {}
    for r in rows:
        launches[r["origin"]] = launches.get(r["origin"], 0) + int(r["launches"])
    ranked = sorted(launches, key=lambda origin: (-launches[origin], origin))
    if len(ranked) <= keep + 1:  # grouping one origin would hide it for nothing
        return {origin: origin for origin in ranked}
    return {origin: origin if n < keep else OTHER for n, origin in enumerate(ranked)}


def members(warehouse: Warehouse) -> dict[str, str]:
    """The federation register's member names, by origin, as the cost export recorded it."""
    return {r["origin"]: r["name"] for r in _q(warehouse, "members", {})}


def registered(names: Mapping[str, str], rows: list[dict]) -> list[dict]:
    """``rows`` with each origin as its member's name in the federation register ``names``,
    and ``unregistered`` for an origin it does not name (still counted). Without a register
    the origins stay as they are."""
    if not names:
        return rows
    return [{**r, "origin": names.get(r["origin"], UNREGISTERED)} for r in rows]


def member_costs_section(warehouse: Warehouse, month: date, currency: str) -> Section:
    rows = _q(warehouse, "member_costs", {"first": month})
    label = month.strftime("%B %Y")
    items = [
        (r["member"], round(float(r["cost_per_launch"]), 4))
        for r in rows
        if r["cost_per_launch"] is not None
    ]
    svg = charts.hbars(
        "member-cost-per-launch",
        f"Cost per launch per member, {label}, in {currency}",
        items,
        charts.money(currency, "per launch"),
    )
    table = Table(
        f"Cost, launches and cost per launch per member, {label}, in {currency}",
        ("member", "cost", "launches", "cost per launch", "not included"),
        [
            (
                r["member"],
                "—" if r["cost"] is None else charts.money_text(float(r["cost"]), currency),
                int(r["launches"] or 0),
                "—"
                if r["cost_per_launch"] is None
                else charts.money_text(float(r["cost_per_launch"]), currency),
                f"{int(r['unconverted'])} cost row(s) without a rate" if r["unconverted"] else "",
            )
            for r in rows
        ],
    )
    note = (
        "" if rows else "No member is registered (BINDEROPS_MEMBERS), or none had costs that month."
    )
    return Section("member-costs", "Cost per launch per member", svg, table, note)


def success_section(
    rows: list[dict], first: date, last: date, registered: Iterable[str]
) -> Section:
    """Launch success per member from their own /metrics (federation health, the
    ``launch_success`` rows), and which ``registered`` members do not expose them."""
    measured = {r["member"] for r in rows}
    items = [
        (r["member"], round(100 * int(r["success"]) / (int(r["success"]) + int(r["failure"])), 1))
        for r in rows
        if int(r["success"] or 0) + int(r["failure"] or 0)
    ]
    shares = dict(items)
    svg = charts.hbars(
        "launch-success",
        f"Launch success by member, {first} to {last}",
        items,
        charts.percent("launches"),
    )
    table = Table(
        "Launches that succeeded and failed, by member (from each BinderHub's /metrics)",
        ("member", "succeeded", "failed", "success %"),
        [
            (
                r["member"],
                int(r["success"] or 0),
                int(r["failure"] or 0),
                charts.percent_text(shares[r["member"]]) if r["member"] in shares else "—",
            )
            for r in rows
        ],
    )
    missing = [name for name in registered if name not in measured]
    if not rows:
        note = (
            "No member's launch outcomes are known: launch events are emitted only for "
            "successful launches, and no registered member's /metrics has been probed."
        )
    elif missing:
        note = f"Not measured (no /metrics reachable): {', '.join(missing)}."
    else:
        note = "Every registered member's /metrics is probed each minute."
    return Section("success", "Launch success", svg, table, note)


def launches_section(rows: list[dict], first: date, last: date) -> Section:
    days = _days(first, last)
    group = grouped(rows)
    origins = sorted(set(group.values()), key=lambda o: (o == OTHER, o))
    counts: dict[tuple, int] = {}
    for r in rows:
        key = (r["day"], group[r["origin"]])
        counts[key] = counts.get(key, 0) + int(r["launches"])
    series = {o: [counts.get((d, o), 0) for d in days] for o in origins}
    total = sum(counts.values())
    svg = charts.bars(
        "launches-by-day",
        f"Launches per day by federation member, {first} to {last}",
        [d.strftime("%b %d") for d in days],
        series,
        charts.count("launches"),
        "UTC day",
        f"{total:,} launches over {len(days)} days across {len(group)} members.",
        whole=True,
    )
    table = Table(
        "Launches per day and member",
        ("day", *origins, "total"),
        [
            (str(d), *(series[o][i] for o in origins), sum(series[o][i] for o in origins))
            for i, d in enumerate(days)
        ],
    )
    return Section("launches", "Launches", svg, table)


def providers_section(launches: list[dict], first: date, last: date) -> Section:
    by_provider: dict[str, int] = {}
    for r in launches:
        by_provider[r["provider"]] = by_provider.get(r["provider"], 0) + int(r["launches"])
    ranked = sorted(by_provider.items(), key=lambda item: (-item[1], item[0]))
    total = sum(by_provider.values()) or 1
    items = [(provider, round(100 * n / total, 1)) for provider, n in ranked]
    svg = charts.hbars(
        "provider-share",
        f"Provider share of launches, {first} to {last}",
        items,
        charts.percent("launches"),
    )
    table = Table(
        "Launches by provider",
        ("provider", "launches", "share"),
        [
            (provider, n, charts.percent_text(share))
            for (provider, n), (_, share) in zip(ranked, items)
        ],
    )
    return Section("providers", "Provider share", svg, table)


def top_section(warehouse: Warehouse, last: date) -> list[Section]:
    sections = []
    for key, label, days in (("day", "day", 1), ("week", "week", 7), ("month", "month", 30)):
        first = last - timedelta(days=days - 1)
        rows = _q(warehouse, "top_repos", {"first": first, "last": last})
        items = [(f"{r['repo']} ({r['provider']})", int(r["launches"])) for r in rows]
        svg = charts.hbars(
            f"top-{key}",
            f"Top repositories, the last {label} ({first} to {last})",
            items,
            charts.count("launches"),
        )
        table = Table(
            f"Top repositories, the last {label}",
            ("provider", "repository", "launches"),
            [(r["provider"], r["repo"], int(r["launches"])) for r in rows],
        )
        sections.append(Section(f"top-{key}", f"Top repositories: the last {label}", svg, table))
    return sections


def costs_section(
    warehouse: Warehouse, launches: list[dict], first: date, last: date, currency: str
) -> Section:
    rows = _q(warehouse, "costs_by_day", {"first": first, "last": last, "currency": currency})
    days = sorted({r["day"] for r in rows})
    sources = sorted({r["source"] for r in rows})
    net = {(r["day"], r["source"]): float(r["net"] or 0) for r in rows}
    missing = sorted({(r["source"], r["day"]) for r in rows if r["unconverted"]})
    used: dict[date, int] = {}
    for r in launches:
        used[r["day"]] = used.get(r["day"], 0) + int(r["launches"])
    series = {s: [net.get((d, s), 0.0) for d in days] for s in sources}
    svg = charts.bars(
        "cost-by-day",
        f"Net cloud cost per day by source, in {currency}",
        [d.strftime("%b %d") for d in days],
        series,
        charts.money(currency, "per day"),
        "UTC day",
        f"Net cost per day over {len(days)} days, by source, in {currency}.",
    )
    table_rows = []
    for d in days:
        total = sum(net.get((d, s), 0.0) for s in sources)
        per = charts.money_text(total / used[d], currency) if used.get(d) else "—"
        table_rows.append(
            (
                str(d),
                *(charts.money_text(net.get((d, s), 0.0), currency) for s in sources),
                charts.money_text(total, currency),
                used.get(d, 0),
                per,
            )
        )
    table = Table(
        f"Net cost per day and cost per launch, in {currency}",
        ("day", *sources, "total", "launches", "cost per launch"),
        table_rows,
    )
    per_launch = {
        s: [net.get((d, s), 0.0) / used[d] if used.get(d) else 0.0 for d in days] for s in sources
    }
    svg += charts.bars(
        "cost-per-launch",
        f"Cost per launch per day by source, in {currency}",
        [d.strftime("%b %d") for d in days],
        per_launch,
        charts.money(currency, "per launch"),
        "UTC day",
        f"Net cost divided by the day's launches, by source, in {currency}.",
    )
    note = ""
    if missing:
        left_out = sorted({source for source, _ in missing})
        note = (
            f"Not included (no rate to convert it to {currency}): "
            + ", ".join(
                f"{source} on {sum(1 for s, _ in missing if s == source)} day(s)"
                for source in left_out
            )
            + ". cloud-costs.jsonl lists each amount."
        )
    return Section("costs", "Cost and cost per launch", svg, table, note)


def delivery_section(
    rows: list[dict], first: date, last: date, incidents: list[dict]
) -> list[Section]:
    """Production deploys in each week from ``first``'s to ``last``'s (``deploys_by_week``'s
    weekly rows; a week without a deploy is drawn as none) and the latest ``incidents`` with
    their time to resolve."""
    by_week = {str(r["week"])[:10]: r for r in rows}
    monday = first - timedelta(days=first.weekday())
    none = {"deploys": 0, "failed": 0, "median_lead_seconds": None}
    weeks = [
        {**by_week.get(str(day), none), "week": str(day)}
        for day in _days(monday, last)
        if day.weekday() == 0
    ]
    svg = charts.bars(
        "deploys-by-week",
        "Production deploys per week",
        [date.fromisoformat(w["week"]).strftime("%b %d") for w in weeks],
        {
            "succeeded": [int(w["deploys"]) - int(w["failed"]) for w in weeks],
            "failed": [int(w["failed"]) for w in weeks],
        },
        charts.count("deploys"),
        "week starting (Monday)",
        "Production deploys per week, succeeded and failed.",
        whole=True,
    )
    deploys = Table(
        "Deploys per week: lead time (first staging build to production) and change failure rate",
        ("week starting", "deploys", "failed", "change failure rate", "median lead time"),
        [
            (
                str(w["week"])[:10],
                int(w["deploys"]),
                int(w["failed"]),
                charts.percent_text(100 * int(w["failed"]) / int(w["deploys"]), 0)
                if int(w["deploys"])
                else "—",
                charts.duration_text(float(w["median_lead_seconds"]))
                if w["median_lead_seconds"] is not None
                else "—",
            )
            for w in weeks
        ],
    )
    items = [
        (f"{i['policy']}, {i['started']:%Y-%m-%d %H:%M}", float(i["duration_seconds"]))
        for i in incidents
        if i["duration_seconds"] is not None
    ]
    svg_incidents = charts.hbars(
        "time-to-resolve",
        "Incidents: time to resolve, by incident and when it started (UTC)",
        items,
        charts.duration("time to resolve"),
    )
    incident_table = Table(
        "Incidents and time to resolve",
        ("started", "policy", "ended", "time to resolve"),
        [
            (
                str(i["started"])[:16],
                i["policy"],
                str(i["ended"])[:16] if i["ended"] else "open",
                charts.duration_text(float(i["duration_seconds"]))
                if i["duration_seconds"] is not None
                else "—",
            )
            for i in incidents
        ],
    )
    return [
        Section("deploys", "Deploys: frequency, lead time, change failure rate", svg, deploys),
        Section("incidents", "Incidents: time to resolve", svg_incidents, incident_table),
    ]


def datasets_section(warehouse: Warehouse, published: Sequence[tuple[str, str]]) -> Section:
    rows = _q(warehouse, "datasets", {})
    entries = [(r["dataset"], str(r["updated"])[:16] if r["updated"] else "never") for r in rows]
    entries += list(published)
    body = (
        "<ul class='fresh'>"
        + "".join(f"<li><b>{escape(n)}</b> {escape(u)}</li>" for n, u in entries)
        + "</ul>"
    )
    return Section(
        "freshness",
        "Freshness of every dataset",
        body,
        Table("Last update (UTC)", ("dataset", "updated"), entries),
    )


def _section_html(section: Section) -> str:
    table = charts.table_html(section.table, section.id) if section.table else ""
    note = f"<p class='note'>{escape(section.note)}</p>" if section.note else ""
    return f"<section id='{section.id}'><h2>{escape(section.title)}</h2>{section.body}{note}{table}</section>"


def page(
    groups: list[tuple[str, list[headline.Tile]]], sections: list[Section], generated: datetime
) -> bytes:
    # The sections are drawn (and their text escaped) by charts and _section_html: Markup
    # says so, and the template escapes everything else it is given.
    body = Markup("\n".join(_section_html(s) for s in sections))
    stamp = generated.strftime("%Y-%m-%d %H:%M UTC")
    return render(HERE, "page.html", generated=stamp, groups=groups, sections=body).encode("utf-8")


def build(
    warehouse: Warehouse,
    today: date,
    currency: str,
    published: Sequence[tuple[str, str]] = (),
    now: datetime | None = None,
) -> bytes:
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    last = today - timedelta(days=1)
    first = last - timedelta(days=DAYS - 1)
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # the last complete one
    in_month = {"first": month, "last": today.replace(day=1) - timedelta(days=1)}
    # One read of the launches serves the members, the providers, cost per day and per
    # launch, and the headline's 30 days against the 30 before: from the earlier of those
    # and the last complete month to ``last``.
    before = first - timedelta(days=DAYS)
    span = {"first": min(before, month), "last": last}
    names = members(warehouse)
    every = registered(names, _q(warehouse, "launches_by_day", span))

    def launched(start: date, end: date) -> int:
        return sum(int(r["launches"]) for r in every if start <= r["day"] <= end)

    launches = [r for r in every if r["day"] >= first]
    success = _q(warehouse, "launch_success", {"first": first, "last": last})
    since = today - timedelta(weeks=DELIVERY_WEEKS)
    by_week = _q(warehouse, "deploys_by_week", {"first": since})
    whole = next((w for w in by_week if w["week"] is None), None)
    probes = federation_query(warehouse, "uptime", {"now": now})
    use = [
        *headline.launches(
            _q(warehouse, "headline_launches", {"now": now})[0],
            now,
            launched(first, last),
            launched(before, first - timedelta(days=1)),
            last,
        ),
        headline.uptime(federation_uptime(probes, now, DAYS), len({r["member"] for r in probes})),
        headline.success(success),
        headline.cost_per_launch(
            _q(warehouse, "costs_by_day", {**in_month, "currency": currency}),
            launched(month, in_month["last"]),
            month,
            currency,
        ),
    ]
    delivery = headline.delivery(
        whole, DELIVERY_WEEKS, _q(warehouse, "resolve_time", {"first": since})[0]
    )
    groups = [
        ("Use and health", use),
        (f"Delivery over the last {DELIVERY_WEEKS} weeks, with DORA performance bands", delivery),
    ]
    sections = [
        launches_section(launches, first, last),
        success_section(success, first, last, names.values()),
        providers_section(launches, first, last),
        *top_section(warehouse, last),
        costs_section(warehouse, launches, first, last, currency),
        member_costs_section(warehouse, month, currency),
        *delivery_section(
            [w for w in by_week if w["week"] is not None],
            since,
            today,
            _q(warehouse, "incidents_recent", {"first": since}),
        ),
        datasets_section(warehouse, published),
    ]
    return page(groups, sections, now)


def live(warehouse: Warehouse, now: datetime) -> bytes:
    """The last hour, for the page's live panel: launches per minute by member, the latest
    deploys and the open incidents."""
    since = (now - timedelta(minutes=LIVE_MINUTES)).replace(second=0, microsecond=0)
    launches = registered(members(warehouse), _q(warehouse, "live_launches", {"since": since}))
    deploys = warehouse.query(schemas.sql("dashboard/live_deploys"))
    incidents = warehouse.query(schemas.sql("dashboard/open_incidents"))

    def stamp(value) -> str | None:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

    group = grouped(launches)
    per_minute: dict[tuple[str | None, str], int] = {}
    for r in launches:
        key = (stamp(r["minute"]), group[r["origin"]])
        per_minute[key] = per_minute.get(key, 0) + int(r["launches"])
    document = {
        "generated": stamp(now),
        "since": stamp(since),
        "launches": [
            {"minute": minute, "origin": origin, "launches": n}
            for (minute, origin), n in per_minute.items()
        ],
        "deploys": [
            {
                "environment": d["environment"],
                "sha": d["sha"][:12],
                "status": d["status"],
                "finished": stamp(d["finished"]),
            }
            for d in deploys
        ],
        "open_incidents": [
            {"policy": i["policy"], "started": stamp(i["started"]), "url": i["issue_url"]}
            for i in incidents
        ],
    }
    return json.dumps(document, indent=1).encode()


def publish(warehouse: Warehouse, settings: Settings, today: date, currency: str = "USD") -> str:
    """Write the page and a first live.json; return where the page went. Costs are shown in
    the reporting ``currency`` (BINDEROPS_COST_CURRENCY)."""
    from ..launches.archive import read_index

    index = read_index(settings)
    published = [("launch archive (day files)", str(max(index)) if index else "never")]
    write_live(warehouse, settings, datetime.now(UTC))
    html = build(warehouse, today, currency, published)
    return write_public(
        PAGE, html, "text/html; charset=utf-8", settings, cache_control="public, max-age=300"
    )


def write_live(warehouse: Warehouse, settings: Settings, now: datetime) -> str:
    return write_public(
        LIVE, live(warehouse, now), "application/json", settings, cache_control="public, max-age=30"
    )
