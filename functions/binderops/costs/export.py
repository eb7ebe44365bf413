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


def member_rows(
    invoices: Sequence[MemberInvoice], window: Window, computed_at: datetime
) -> list[CostRow]:
    """Each invoice spread evenly over its days (remainder micros on the first days, so the
    days add up to the invoice exactly); the rows of days inside ``window``."""
    rows = []
    for invoice in invoices:
        days = (invoice.last - invoice.first).days + 1
        share, remainder = divmod(abs(invoice.amount_micros), days)
        sign = -1 if invoice.amount_micros < 0 else 1
        for n in range(days):
            day = invoice.first + timedelta(days=n)
            if window.first <= day <= window.last:
                micros = sign * (share + (1 if n < remainder else 0))
                source = f"invoice:{invoice.member}"
                rows.append(
                    CostRow(
                        day,
                        source,
                        invoice.member,
                        "",
                        invoice.currency,
                        "invoice",
                        micros,
                        0,
                        micros,
                        computed_at,
                    )
                )
    return rows


def billing_rows(
    warehouse: Warehouse, billing_table: str, window: Window, tz: str, computed_at: datetime
) -> list[CostRow]:
    """The export's daily figures for ``window``, from ``schemas/sql/billing_daily.sql``."""
    sql = schemas.sql_in("billing_daily", {}, billing=f"`{billing_table}`")
    found = warehouse.query(sql, {"tz": tz, "start_date": window.first, "end_date": window.last})
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
) -> ExportResult:
    """Recompute ``window`` and replace its days in ``cloud_costs_daily`` in one transaction."""
    computed_at = now or datetime.now(UTC)
    rows = billing_rows(warehouse, billing_table, window, tz, computed_at) + member_rows(
        invoices, window, computed_at
    )
    warehouse.replace("cloud_costs_daily", "day", window.first, window.last, rows)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.currency] = totals.get(row.currency, 0) + row.net_micros
    return ExportResult(window, len(rows), totals)


# cloud-costs.jsonl's version: 1 was mybinder.org's gross Google Cloud charge; 2 is the
# federation's net total (credits deducted, members' invoices added) in one currency.
COSTS_VERSION = 2


@dataclass(frozen=True)
class PublishedCosts:
    """The two public files: ``cloud-costs.jsonl`` and ``cloud-costs-detail.jsonl``."""

    daily: bytes
    detail: bytes
    currency: str


def billing_currency(rows: Sequence[dict], configured: str) -> str:
    """The billing account's currency: ``configured``, else the billing export's (an account
    has one; should the table mix several, the one with the most charged)."""
    if configured:
        return configured
    charged: dict[str, int] = {}
    for r in rows:
        if r["source"] == BILLING_SOURCE:
            charged[r["currency"]] = charged.get(r["currency"], 0) + abs(int(r["gross_micros"]))
    return max(sorted(charged), key=charged.__getitem__) if charged else "USD"


def published_costs(warehouse: Warehouse, tz: str, currency: str = "") -> PublishedCosts:
    """mybinder.org's ``cloud-costs.jsonl`` — exactly one line per day, ``{"version",
    "start_time", "end_time", "cost"}``, ``cost`` the federation's net total that day in the
    billing account's currency — and ``cloud-costs-detail.jsonl``, one line per day, source
    and currency with gross, credits and net (amounts in other currencies are there only)."""
    rows = warehouse.query(schemas.sql("cloud_costs_by_day"))
    currency = billing_currency(rows, currency)
    zone = ZoneInfo(tz)
    totals: dict[date, int] = {}
    detail = []
    for r in rows:
        totals.setdefault(r["day"], 0)
        if r["currency"] == currency:
            totals[r["day"]] += int(r["net_micros"])
        line = {
            **_day(r["day"], zone),
            "source": r["source"],
            "currency": r["currency"],
            "gross": _units(r["gross_micros"]),
            "credits": _units(r["credits_micros"]),
            "net": _units(r["net_micros"]),
        }
        detail.append(json.dumps(line))
    daily = []
    for day, net_micros in totals.items():
        daily.append(json.dumps({**_day(day, zone), "cost": _units(net_micros)}))
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
    window = requested_window(
        request or {}, today_in(settings.cost_timezone, now), settings.cost_window_days
    )
    result = export(
        warehouse, settings.billing_table, settings.cost_timezone, window, invoices, now
    )
    published = published_costs(warehouse, settings.cost_timezone, settings.currency)
    # The breakdown first: a reader of the total may follow it to the detail.
    write_public("cloud-costs-detail.jsonl", published.detail, "application/x-ndjson", shared)
    location = write_public("cloud-costs.jsonl", published.daily, "application/x-ndjson", shared)
    if metrics is not None:
        record_latest(warehouse, published.currency, today_in(settings.cost_timezone, now), metrics)
    return result, location


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
