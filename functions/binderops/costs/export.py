"""Daily net cloud cost from the standard Cloud Billing export, published openly.

Per day (in a configured time zone), service, project, currency and cost type: gross cost,
credits and net, in integer micros. Every run recomputes a trailing window and replaces
those days atomically, so a re-run changes nothing and a late billing row changes exactly
the day it belongs to. Federation members not on Google Cloud come from a small,
version-controlled invoices file, spread evenly over each invoice's days.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ..core.clock import today_in
from ..core.config import Settings
from ..core.errors import Drop
from ..core.members import Member, read_members
from ..core.seams import MetricsRecorder
from ..warehouse import Warehouse, schemas
from .invoices import MICROS, MemberInvoice, read_member_costs
from .settings import CostSettings

BILLING_SOURCE = "gcp-billing-export"


class ExportRequestError(Drop):
    """A manual re-run asked for something that cannot be exported."""

    kind = "invalid_request"


@dataclass(frozen=True)
class Window:
    """Usage days ``first`` to ``last``, inclusive, in the cost time zone."""

    first: date
    last: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


class CostRow(NamedTuple):
    """A row of ``cloud_costs_daily`` (``schemas/bigquery/cloud_costs_daily.json``), in micros."""

    day: date
    source: str
    service: str | None
    project: str | None
    currency: str
    cost_type: str
    cost_micros: int
    credits_micros: int
    net_micros: int
    computed_at: datetime
    reporting_currency: str | None = None
    reporting_net_micros: int | None = None  # None: cannot be converted


@dataclass(frozen=True)
class ExportResult:
    window: Window
    rows: int
    net_micros: dict[str, int]  # per currency, over the window


def trailing_window(today: date, days: int = 7) -> Window:
    """The last ``days`` days and today; until the 5th, also the whole previous invoice
    month, which the export keeps revising until it settles early in the next month."""
    first = today - timedelta(days=days)
    if today.day <= 5:
        first = min(first, (today.replace(day=1) - timedelta(days=1)).replace(day=1))
    return Window(first, today)


def requested_window(request: dict, today: date, days: int) -> Window:
    """The window a scheduler tick (``{}``) or a manual re-run (``{"start", "end"}``) asks for."""
    if not request.get("start") and not request.get("end"):
        return trailing_window(today, days)
    try:
        first = date.fromisoformat(str(request.get("start") or request.get("end")))
        last = date.fromisoformat(str(request.get("end") or today.isoformat()))
    except ValueError as e:
        raise ExportRequestError(f"start and end must be YYYY-MM-DD dates: {e}") from None
    if first > last:
        raise ExportRequestError(f"start {first} is after end {last}")
    if (last - first).days > 400:
        raise ExportRequestError("a re-run covers at most 400 days; split it")
    return Window(first, last)


def spread(micros: int, days: int) -> list[int]:
    """``micros`` over ``days`` days, evenly; the remainder on the first days, so the days add
    up to it exactly."""
    share, remainder = divmod(abs(micros), days)
    sign = -1 if micros < 0 else 1
    return [sign * (share + (1 if n < remainder else 0)) for n in range(days)]


def member_rows(
    invoices: Sequence[MemberInvoice], window: Window, computed_at: datetime, reporting: str
) -> list[CostRow]:
    """Each invoice spread evenly over its days, in its currency and (converted whole, then
    spread the same way) in the reporting currency; the rows of days inside ``window``."""
    rows = []
    for invoice in invoices:
        days = (invoice.last - invoice.first).days + 1
        converted = invoice.reporting_micros(reporting)
        shares = spread(invoice.amount_micros, days)
        reported = spread(converted, days) if converted is not None else [None] * days
        for n, (micros, in_reporting) in enumerate(zip(shares, reported)):
            day = invoice.first + timedelta(days=n)
            if window.first <= day <= window.last:
                rows.append(
                    CostRow(
                        day,
                        f"invoice:{invoice.member}",
                        invoice.member,
                        "",
                        invoice.currency,
                        "invoice",
                        micros,
                        0,
                        micros,
                        computed_at,
                        reporting,
                        in_reporting,
                    )
                )
    return rows


def billing_rows(
    warehouse: Warehouse,
    billing_table: str,
    window: Window,
    tz: str,
    computed_at: datetime,
    reporting: str,
) -> list[CostRow]:
    """The export's daily figures for ``window``, from ``schemas/sql/billing_daily.sql``."""
    sql = schemas.sql_in("billing_daily", {}, billing=f"`{billing_table}`")
    found = warehouse.query(
        sql,
        {"tz": tz, "start_date": window.first, "end_date": window.last, "currency": reporting},
    )
    return [
        CostRow(
            day=r["day"],
            source=BILLING_SOURCE,
            service=r["service"],
            project=r["project"],
            currency=r["currency"],
            cost_type=r["cost_type"],
            cost_micros=r["cost_micros"],
            credits_micros=r["credits_micros"],
            net_micros=r["net_micros"],
            computed_at=computed_at,
            reporting_currency=reporting,
            reporting_net_micros=r["reporting_net_micros"],
        )
        for r in found
    ]


def export(
    warehouse: Warehouse,
    billing_table: str,
    tz: str,
    window: Window,
    invoices: Sequence[MemberInvoice],
    now: datetime | None = None,
    reporting: str = "USD",
) -> ExportResult:
    """Recompute ``window`` and replace its days in ``cloud_costs_daily`` in one transaction."""
    computed_at = now or datetime.now(UTC)
    rows = billing_rows(warehouse, billing_table, window, tz, computed_at, reporting) + member_rows(
        invoices, window, computed_at, reporting
    )
    warehouse.replace("cloud_costs_daily", "day", window.first, window.last, rows)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.currency] = totals.get(row.currency, 0) + row.net_micros
    return ExportResult(window, len(rows), totals)


# cloud-costs.jsonl's version: 1 was mybinder.org's gross Google Cloud charge; 2 the
# federation's net total in the billing account's currency; 3 adds ``currency`` (every cost
# converted to the reporting currency) and ``unconverted`` (what could not be), and lists
# complete days only.
COSTS_VERSION = 3


@dataclass(frozen=True)
class PublishedCosts:
    """The two public files: ``cloud-costs.jsonl`` and ``cloud-costs-detail.jsonl``."""

    daily: bytes
    detail: bytes
    currency: str


def published_costs(warehouse: Warehouse, tz: str, currency: str, today: date) -> PublishedCosts:
    """mybinder.org's ``cloud-costs.jsonl`` — one line per complete day (before ``today`` in
    ``tz``): ``version``, ``start_time``, ``end_time``, ``cost`` (the federation's net total in
    ``currency``), ``currency``, and ``unconverted`` when some cost could not be converted (each
    source and currency with its net, left out of ``cost``) — and
    ``cloud-costs-detail.jsonl``, one line per complete day, source and currency with gross,
    credits, net, and the net in the reporting currency (null when not converted)."""
    rows = warehouse.query(schemas.sql("cloud_costs_by_day"), {"today": today})
    zone = ZoneInfo(tz)
    totals: dict[date, int] = {}
    unconverted: dict[date, list[dict]] = {}
    detail = []
    for r in rows:
        totals.setdefault(r["day"], 0)
        converted = r["reporting_net_micros"] if r["reporting_currency"] == currency else None
        if converted is not None:
            totals[r["day"]] += int(converted)
        else:
            unconverted.setdefault(r["day"], []).append(
                {"source": r["source"], "currency": r["currency"], "net": _units(r["net_micros"])}
            )
        line = {
            **_day(r["day"], zone),
            "source": r["source"],
            "currency": r["currency"],
            "gross": _units(r["gross_micros"]),
            "credits": _units(r["credits_micros"]),
            "net": _units(r["net_micros"]),
            "reporting_currency": currency,
            "reporting_net": None if converted is None else _units(converted),
        }
        detail.append(json.dumps(line))
    daily = []
    for day, net_micros in totals.items():
        line = {**_day(day, zone), "cost": _units(net_micros), "currency": currency}
        if day in unconverted:
            line["unconverted"] = unconverted[day]
        daily.append(json.dumps(line))
    return PublishedCosts(_lines(daily), _lines(detail), currency)


def _day(day: date, zone: ZoneInfo) -> dict:
    """The fields that begin every published line: the version and the day's bounds."""
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return {"version": COSTS_VERSION, "start_time": start.isoformat(), "end_time": end.isoformat()}


def _units(micros) -> float:
    return float(Decimal(int(micros)) / MICROS)


def _lines(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode() if lines else b""


def run(
    warehouse: Warehouse,
    settings: CostSettings,
    shared: Settings,
    request: dict | None = None,
    now: datetime | None = None,
    metrics: MetricsRecorder | None = None,
) -> tuple[ExportResult, str]:
    """What ``export_costs`` and ``binderops costs`` do: read the invoices file (all of it is
    checked before anything is written), export the window, publish ``cloud-costs.jsonl``
    and ``cloud-costs-detail.jsonl``.
    Returns the result and where the file went."""
    from ..clients.public import write_public

    invoices = read_member_costs(settings.member_costs) if settings.member_costs else []
    members = read_members(shared.members) if shared.members else []
    window = requested_window(
        request or {}, today_in(settings.cost_timezone, now), settings.cost_window_days
    )
    result = export(
        warehouse,
        settings.billing_table,
        settings.cost_timezone,
        window,
        invoices,
        now,
        settings.currency,
    )
    record_register(warehouse, members, now or datetime.now(UTC))
    today = today_in(settings.cost_timezone, now)
    published = published_costs(warehouse, settings.cost_timezone, settings.currency, today)
    # The breakdown first: a reader of the total may follow it to the detail.
    write_public("cloud-costs-detail.jsonl", published.detail, "application/x-ndjson", shared)
    location = write_public("cloud-costs.jsonl", published.daily, "application/x-ndjson", shared)
    if metrics is not None:
        record_latest(warehouse, published.currency, today, metrics)
    return result, location


class MemberRow(NamedTuple):
    """A row of ``federation_members`` (``schemas/bigquery/federation_members.json``)."""

    name: str
    origin: str
    url: str
    projects: str | None
    invoice: str | None
    currency: str
    updated_at: datetime


def record_register(warehouse: Warehouse, members: Sequence[Member], now: datetime) -> None:
    """The register, whole, in ``federation_members``: what cost per launch per member joins
    on (a member no longer registered is gone from it)."""
    rows = [
        MemberRow(m.name, m.origin, m.url, " ".join(m.projects), m.invoice, m.currency, now)
        for m in members
    ]
    # Every name sorts between "" and "~" (letters, digits, ".", "_", "-").
    warehouse.replace("federation_members", "name", "", "~", rows)


def record_latest(
    warehouse: Warehouse, currency: str, today: date, metrics: MetricsRecorder
) -> None:
    """net_cost and cost_per_launch for the latest complete day (none for a day without
    launches: a cost per nothing is not a number)."""
    rows = warehouse.query(schemas.sql("latest_cost"), {"currency": currency, "today": today})
    if not rows:
        return
    [latest] = rows
    labels = {"currency": currency}
    metrics.set("net_cost", labels, float(latest["net"]))
    if latest["launches"]:
        metrics.set("cost_per_launch", labels, float(latest["net"]) / int(latest["launches"]))
