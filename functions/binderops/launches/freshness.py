"""Freshness: does the latest complete day's launch data look whole?

Each federation member's (origin's) launches for the day are compared with its median over
the 7 days before. A day with no launches at all, a member that went silent, or one whose
launches dropped by more than ``BINDEROPS_FRESHNESS_DROP`` of its median is a finding. A
member is judged only once it has a week of history (launches 7 days before), so a new
member's first days are quiet. Every finding sets the ``freshness`` metric, which an alert
policy turns into an incident; off Google Cloud the check posts the same notification to
``notify_incident_http`` itself.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from ..core.clock import today_in
from ..core.errors import BinderopsError
from ..core.members import Member, names_by_origin
from ..core.seams import MetricsRecorder
from ..incidents.seam import Incident, IncidentRaiser
from ..warehouse import Warehouse, schemas
from .settings import LaunchSettings

HISTORY_DAYS = 7
PROBLEMS = ("missing_day", "silent_origin", "drop")
WHOLE_DAY = "*"  # the origin label of a finding about the whole day

# Its own logger: the `binderops freshness` command prints the findings it logs here.
log = logging.getLogger("binderops.freshness")


@dataclass(frozen=True)
class Finding:
    origin: str
    problem: str
    launches: int
    median: float
    member: str = ""  # the origin's name in the federation register, when it has one

    def describe(self, day: date) -> str:
        who = f"{self.member} ({self.origin})" if self.member else self.origin
        if self.problem == "missing_day":
            return f"no launches at all on {day} (7-day medians add up to {self.median:g})"
        if self.problem == "silent_origin":
            return f"{who} recorded no launches on {day} (7-day median {self.median:g})"
        return (
            f"{who} recorded {self.launches} launches on {day}, "
            f"against a 7-day median of {self.median:g}"
        )


@dataclass(frozen=True)
class Check:
    day: date
    origins: dict[str, int]  # launches on the day, by judged origin
    findings: list[Finding]


def check(warehouse: Warehouse, day: date, drop: float) -> Check:
    first = day - timedelta(days=HISTORY_DAYS)
    rows = warehouse.query(schemas.sql("freshness"), {"first": first, "last": day})
    by_origin: dict[str, dict[date, int]] = {}
    for row in rows:
        by_origin.setdefault(row["origin"] or "unknown", {})[row["day"]] = int(row["launches"])
    history = [first + timedelta(days=n) for n in range(HISTORY_DAYS)]
    findings, judged, total_median = [], {}, 0.0
    for origin, days in sorted(by_origin.items()):
        if days.get(first, 0) == 0:  # not a week old (or silent a week ago): not judged
            continue
        median = statistics.median(days.get(d, 0) for d in history)
        total_median += median
        launches = days.get(day, 0)
        judged[origin] = launches
        if median > 0 and launches == 0:
            findings.append(Finding(origin, "silent_origin", 0, median))
        elif launches < (1 - drop) * median:
            findings.append(Finding(origin, "drop", launches, median))
    if total_median > 0 and not any(days.get(day) for days in by_origin.values()):
        findings = [Finding(WHOLE_DAY, "missing_day", 0, total_median)]
    return Check(day, judged, findings)


def record(result: Check, metrics: MetricsRecorder) -> None:
    """One gauge per judged origin and problem: 1 for a finding, 0 otherwise (so a finding
    that is gone is seen to be gone)."""
    found = {(f.origin, f.problem) for f in result.findings}
    for origin in [*result.origins, WHOLE_DAY]:
        for problem in PROBLEMS:
            if origin == WHOLE_DAY and problem != "missing_day":
                continue
            value = 1 if (origin, problem) in found else 0
            metrics.set("freshness", {"origin": origin, "problem": problem}, value)


POLICY = "Launch data freshness"


def incident(finding: Finding, day: date, project: str) -> Incident:
    """The incident a finding raises; its id names the day, member and problem, so a re-run
    (or a redelivered tick) reopens nothing new."""
    return Incident(
        incident_id=f"freshness-{day}-{finding.problem}-{finding.origin}".replace("*", "all"),
        policy=POLICY,
        condition=f"{finding.problem.replace('_', ' ')}: {finding.origin}",
        summary=finding.describe(day),
        started=datetime.combine(day + timedelta(days=1), time(), UTC),
        resource=finding.origin,
        documentation=finding.describe(day)
        + ". Check the member's BinderHub event logging and the launch topic's "
        "dead letters; a late delivery heals itself at the next publish run.",
        metric="custom.googleapis.com/binderops/freshness",
        labels=(("origin", finding.origin), ("problem", finding.problem)),
        project=project,
    )


def run(
    warehouse: Warehouse,
    settings: LaunchSettings,
    metrics: MetricsRecorder | None = None,
    project: str = "",
    day: date | None = None,
    incidents: IncidentRaiser | None = None,
    members: Sequence[Member] = (),
) -> Check:
    """Check ``day`` (by default the latest complete UTC day) against the settings' drop,
    set the metric and write it at once (a daily run's gauges should not wait a minute),
    and open an incident for each finding through ``incidents`` when there is a raiser.
    Findings name each origin's member from the federation register ``members``."""
    day = day or today_in() - timedelta(days=1)
    result = check(warehouse, day, settings.freshness_drop)
    names = names_by_origin(members)
    result = replace(
        result, findings=[replace(f, member=names.get(f.origin, "")) for f in result.findings]
    )
    if metrics is not None:
        record(result, metrics)
        metrics.write()
    for finding in result.findings:
        log.warning("freshness: %s", finding.describe(day))
        if incidents is not None:
            try:
                incidents.open(incident(finding, day, project))
            except BinderopsError as e:  # the check stands; the next run raises it again
                log.error("freshness: the incident was not opened: %s", e, extra={"kind": e.kind})
    if not result.findings:
        log.info("freshness: %s looks whole (%d members judged)", day, len(result.origins))
    return result
