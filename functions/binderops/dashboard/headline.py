"""The dashboard's headline row: the figures a reader asks first, each with its unit, the
period it covers, and for the four delivery figures the DORA performance band it falls in.

A figure that cannot be stated honestly (no probes, a month with days of costs missing) is
shown as "—" with the reason, never as a number.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from .charts import duration_text, money_text, percent_text

NONE = "—"

# The DORA performance bands, from the 2023 Accelerate State of DevOps report, made contiguous
# (the report's clusters leave gaps and overlaps between them): each metric's bounds for elite,
# high and medium; anything beyond is low. docs/metrics.md lists them.
DAY, WEEK = 86400, 7 * 86400
BANDS = {
    # Deploys per week, at least: on demand (daily or more), weekly, monthly.
    "deploys": ((7.0, "elite"), (1.0, "high"), (12 / 52, "medium")),
    # Lead time for changes in seconds, at most: a day, a week, a month.
    "lead": ((DAY, "elite"), (WEEK, "high"), (30 * DAY, "medium")),
    # Change failure rate, at most: 5%, 10%, 15%.
    "failure": ((0.05, "elite"), (0.10, "high"), (0.15, "medium")),
    # Time to restore service in seconds, at most: an hour, a day, a week.
    "restore": ((3600, "elite"), (DAY, "high"), (WEEK, "medium")),
}


def band(metric: str, value: float) -> str:
    """The DORA band ``value`` of ``metric`` falls in: more deploys are better, less of
    everything else."""
    for bound, name in BANDS[metric]:
        if value >= bound if metric == "deploys" else value <= bound:
            return name
    return "low"


@dataclass(frozen=True)
class Tile:
    id: str
    label: str
    value: str  # with its unit, or NONE
    detail: str  # the period, the change, or why there is no figure
    band: str = ""  # the DORA band, for the four delivery figures


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def change(now: int, before: int, period: str) -> str:
    if not before:
        return f"none in the {period} before"
    delta = 100 * (now - before) / before
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    return f"{sign}{abs(delta):.0f}% on the {period} before ({before:,})"


def launches(hours: dict, now: datetime, month: int, previous_month: int, last: date) -> list[Tile]:
    """The 24 hours to ``now`` (when the page was made; ``hours`` is ``headline_launches``'s
    row) and the ``month`` of 30 UTC days to ``last``, each against the period before."""
    day, previous_day = int(hours["day"] or 0), int(hours["previous_day"] or 0)
    return [
        Tile(
            "launches-24h",
            "Launches, last 24 h",
            f"{day:,}",
            f"to {now:%H:%M} UTC; {change(day, previous_day, '24 h')}",
        ),
        Tile(
            "launches-30d",
            "Launches, last 30 days",
            f"{month:,}",
            f"to {last:%b %d}; {change(month, previous_month, '30 days')}",
        ),
    ]


def uptime(share: float | None, members: int) -> Tile:
    if share is None:
        return Tile("uptime", "Federation uptime, 30 days", NONE, "no member has been probed")
    return Tile(
        "uptime",
        "Federation uptime, 30 days",
        percent_text(100 * share, 2),
        f"of probes answered, by {plural(members, 'member')} probed each minute",
    )


def success(rows: Sequence[dict]) -> Tile:
    succeeded = sum(int(r["success"] or 0) for r in rows)
    failed = sum(int(r["failure"] or 0) for r in rows)
    if not succeeded + failed:
        return Tile("success", "Launch success, 30 days", NONE, "no member's /metrics probed")
    return Tile(
        "success",
        "Launch success, 30 days",
        percent_text(100 * succeeded / (succeeded + failed)),
        f"of {succeeded + failed:,} launches, from {plural(len(rows), 'member')}' /metrics",
    )


def cost_per_launch(costs: Sequence[dict], launched: int, month: date, currency: str) -> Tile:
    """Net cost over ``launched`` for the last complete ``month``, from ``costs_by_day``
    rows (a day and source each). Only a month whose every day has costs from every source
    gets a figure."""
    label = f"Cost per launch, {month:%B %Y}"
    days = calendar.monthrange(month.year, month.month)[1]
    sources = sorted({r["source"] for r in costs})
    if not sources:
        return Tile("cost-per-launch", label, NONE, "no cloud costs exported for the month")
    short = []
    for source in sources:
        found = len({r["day"] for r in costs if r["source"] == source})
        if found < days:
            short.append(f"{source} ({found} of {days} days)")
    if short:
        return Tile("cost-per-launch", label, NONE, "costs incomplete: " + ", ".join(short))
    if not launched:
        return Tile("cost-per-launch", label, NONE, "no launches recorded in the month")
    net = sum(float(r["net"] or 0) for r in costs)
    left_out = [
        f"{r['unconverted']} ({r['source']}, {r['day']})" for r in costs if r["unconverted"]
    ]
    not_included = (
        f"not included, for want of a rate to {currency}: " + "; ".join(left_out)
        if left_out
        else "costs outside these billing exports are not included"
    )
    return Tile(
        "cost-per-launch",
        label,
        money_text(net / launched, currency),
        f"{money_text(net, currency)} net ({', '.join(sources)}) over {launched:,} launches; "
        + not_included,
    )


def delivery(total: dict | None, weeks: int, resolve: dict) -> list[Tile]:
    """The DORA four over the last ``weeks`` weeks, from ``deploys_by_week``'s whole-period
    row and ``resolve_time``."""
    period = f"the last {weeks} weeks"
    deploys = int(total["deploys"]) if total else 0
    failed = int(total["failed"] or 0) if total else 0
    per_week = deploys / weeks
    tiles = [
        Tile(
            "deploys",
            "Production deploys per week",
            f"{per_week:.1f}",
            f"{deploys} in {period}",
            band("deploys", per_week),
        )
    ]
    lead = total["median_lead_seconds"] if total else None
    if lead is None:
        tiles.append(
            Tile("lead-time", "Median lead time", NONE, f"no production deploy in {period}")
        )
    else:
        tiles.append(
            Tile(
                "lead-time",
                "Median lead time",
                duration_text(float(lead)),
                "first staging build to production",
                band("lead", float(lead)),
            )
        )
    if deploys:
        rate = failed / deploys
        tiles.append(
            Tile(
                "failure-rate",
                "Change failure rate",
                percent_text(100 * rate, 0),
                f"{failed} of {deploys} production deploys failed",
                band("failure", rate),
            )
        )
    else:
        tiles.append(Tile("failure-rate", "Change failure rate", NONE, f"no deploy in {period}"))
    mean = resolve.get("mean_seconds")
    if mean is None:
        tiles.append(
            Tile("restore", "Mean time to resolve", NONE, f"no incident resolved in {period}")
        )
    else:
        open_now = int(resolve["incidents"]) - int(resolve["resolved"])
        tiles.append(
            Tile(
                "restore",
                "Mean time to resolve",
                duration_text(float(mean)),
                f"{plural(int(resolve['resolved']), 'incident')} resolved"
                + (f", {open_now} still open" if open_now else ""),
                band("restore", float(mean)),
            )
        )
    return tiles
