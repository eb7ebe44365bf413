"""Daily net cloud cost from the standard Cloud Billing export, published openly.

Per day (in a configured time zone), service, project, currency and cost type: gross cost,
credits and net, in integer micros. Every run recomputes a trailing window and replaces
those days atomically, so a re-run changes nothing and a late billing row changes exactly
the day it belongs to. Federation members not on Google Cloud come from a small,
version-controlled invoices file, spread evenly over each invoice's days.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from . import schemas

BILLING_SOURCE = "gcp-billing-export"
MICROS = 1_000_000
_MEMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_CURRENCY = re.compile(r"[A-Z]{3}")


class MemberCostsError(ValueError):
    """The invoices file has a bad line; the message names the file and line."""


class ExportRequestError(ValueError):
    """A manual re-run asked for something that cannot be exported."""


@dataclass(frozen=True)
class Window:
    """Usage days ``first`` to ``last``, inclusive, in the cost time zone."""

    first: date
    last: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class MemberInvoice:
    member: str
    first: date
    last: date
    amount_micros: int
    currency: str


@dataclass(frozen=True)
class ExportResult:
    window: Window
    rows: int
    net_micros: dict[str, int]  # per currency, over the window


def today_in(tz: str, now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz)).date()


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


def _period(text: str) -> tuple[date, date]:
    if ".." in text:
        first, last = (date.fromisoformat(part.strip()) for part in text.split("..", 1))
    else:
        month = datetime.strptime(text.strip(), "%Y-%m").date()
        first = month
        last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if first > last:
        raise ValueError(f"period starts {first}, after it ends {last}")
    return first, last


def read_member_costs(path: Path) -> list[MemberInvoice]:
    """Invoices of federation members: CSV with the header ``member,period,amount,currency``.

    ``period`` is a month (``2026-03``) or a range of days (``2026-03-01..2026-03-15``);
    ``amount`` is a decimal with at most six places. Blank lines and ``#`` comments are
    skipped. Any bad line raises ``MemberCostsError`` naming it, before anything is written.
    """
    invoices = []
    with open(path, newline="", encoding="utf-8") as f:
        lines = [(n, line) for n, line in enumerate(f, 1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return invoices
    header_number, header = lines[0]
    if [h.strip() for h in next(csv.reader([header]))] != ["member", "period", "amount", "currency"]:
        raise MemberCostsError(f"{path}:{header_number}: the header must be member,period,amount,currency")
    for number, line in lines[1:]:
        cells = [c.strip() for c in next(csv.reader([line]))]
        where = f"{path}:{number}"
        if len(cells) != 4:
            raise MemberCostsError(f"{where}: expected 4 fields (member,period,amount,currency), got {len(cells)}")
        member, period, amount, currency = cells
        if not _MEMBER.fullmatch(member):
            raise MemberCostsError(f"{where}: member {member!r} must be letters, digits, '.', '_' or '-'")
        try:
            first, last = _period(period)
        except ValueError as e:
            raise MemberCostsError(f"{where}: period {period!r} is not YYYY-MM or YYYY-MM-DD..YYYY-MM-DD ({e})") from None
        try:
            micros = Decimal(amount) * MICROS
        except InvalidOperation:
            raise MemberCostsError(f"{where}: amount {amount!r} is not a number") from None
        if not micros.is_finite() or micros != micros.to_integral_value():
            raise MemberCostsError(f"{where}: amount {amount!r} has more than six decimal places")
        if not _CURRENCY.fullmatch(currency):
            raise MemberCostsError(f"{where}: currency {currency!r} is not a three-letter ISO 4217 code")
        invoices.append(MemberInvoice(member, first, last, int(micros), currency))
    return invoices


def member_rows(invoices: Sequence[MemberInvoice], window: Window, computed_at: datetime) -> list[tuple]:
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
                rows.append((day, f"invoice:{invoice.member}", invoice.member, "", invoice.currency, "invoice", micros, 0, micros, computed_at))
    return rows


def billing_rows(warehouse, billing_table: str, window: Window, tz: str, computed_at: datetime) -> list[tuple]:
    """The export's daily figures for ``window``, from ``schemas/sql/billing_daily.sql``."""
    sql = schemas.sql_template("sql/billing_daily.sql").substitute(billing=f"`{billing_table}`")
    found = warehouse.query(sql, {"tz": tz, "start_date": window.first, "end_date": window.last})
    return [
        (r["day"], BILLING_SOURCE, r["service"], r["project"], r["currency"], r["cost_type"],
         r["cost_micros"], r["credits_micros"], r["net_micros"], computed_at)
        for r in found
    ]  # fmt: skip


def export(warehouse, billing_table: str, tz: str, window: Window, invoices: Sequence[MemberInvoice], now: datetime | None = None) -> ExportResult:
    """Recompute ``window`` and replace its days in ``cloud_costs_daily`` in one transaction."""
    computed_at = now or datetime.now(timezone.utc)
    rows = billing_rows(warehouse, billing_table, window, tz, computed_at) + member_rows(invoices, window, computed_at)
    warehouse.replace("cloud_costs_daily", "day", window.first, window.last, rows)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row[4]] = totals.get(row[4], 0) + row[8]
    return ExportResult(window, len(rows), totals)


def cloud_costs_jsonl(warehouse, tz: str) -> bytes:
    """mybinder.org's ``cloud-costs.jsonl``: one line per day (and source and currency),
    totals across services. ``version``, ``start_time``, ``end_time`` and ``cost`` are
    mybinder's fields; ``currency`` and ``source`` say what the figure is and where from."""
    rows = warehouse.query(
        "SELECT day, source, currency, SUM(net_micros) AS net_micros FROM cloud_costs_daily "
        "GROUP BY day, source, currency ORDER BY day, source, currency"
    )
    zone = ZoneInfo(tz)
    lines = []
    for r in rows:
        start = datetime.combine(r["day"], time(), zone)
        end = datetime.combine(r["day"] + timedelta(days=1), time(), zone)
        lines.append(json.dumps({
            "version": 1,
            "start_time": start.isoformat(),
            "end_time": end.isoformat(),
            "cost": float(Decimal(int(r["net_micros"])) / MICROS),
            "currency": r["currency"],
            "source": r["source"],
        }))  # fmt: skip
    return ("\n".join(lines) + "\n").encode() if lines else b""


def run(warehouse, settings, request: dict | None = None, now: datetime | None = None) -> tuple[ExportResult, str]:
    """What ``export_costs`` and ``binderops costs`` do: read the invoices file (all of it is
    checked before anything is written), export the window, publish ``cloud-costs.jsonl``.
    Returns the result and where the file went."""
    from .publish import write_public

    invoices = read_member_costs(settings.member_costs) if settings.member_costs else []
    window = requested_window(request or {}, today_in(settings.cost_timezone, now), settings.cost_window_days)
    result = export(warehouse, settings.billing_table, settings.cost_timezone, window, invoices, now)
    location = write_public(
        "cloud-costs.jsonl",
        cloud_costs_jsonl(warehouse, settings.cost_timezone),
        "application/x-ndjson",
        settings.public_dir,
        settings.public_bucket,
        settings.storage_api_url,
    )
    return result, location
