"""A probe round, start to end: probe, judge, raise and close incidents, store.

A round belongs to its tick's scheduled minute, so a redelivered tick is the same round:
once its rows are stored, it is not probed again. Incidents are raised before the rows are
stored: a failure in between makes Pub/Sub redeliver, and the retry raises the same ids
(the incident path is idempotent on them), never a second incident.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from ..core.members import Member
from ..core.seams import MetricsRecorder
from ..incidents.seam import Incident, IncidentRaiser
from ..warehouse import Warehouse
from . import query
from .probe import Probe, probe_all
from .settings import FederationSettings
from .state import State, step

log = logging.getLogger("binderops.federation")
DOWN = "Federation member down"
DRIFT = "Federation member version drift"
SUCCESS = "Federation member launch success"
WINDOW = timedelta(minutes=30)


class ProbeRow(NamedTuple):
    """A row of ``member_probes`` (``schemas/bigquery/member_probes.json``)."""

    probe_id: str
    minute: datetime
    member: str
    ok: bool
    status: int
    failed_checks: str
    response_ms: float | None
    pods: int | None
    quota: int | None
    versions: str
    drift: bool
    success_total: float | None
    failure_total: float | None
    launches_success: int | None
    launches_failure: int | None
    error: str
    up: bool
    streak: int
    since: datetime
    run_start: datetime
    drift_since: datetime | None
    low_since: datetime | None
    probed_at: datetime


@dataclass
class Round:
    minute: datetime
    rows: list[ProbeRow]
    repeated: bool = False  # a redelivered tick: the stored round, nothing done again
    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)


def drifting(minute: datetime, drift_since: datetime | None) -> bool:
    """Whether versions have differed from the reference member's for the whole window."""
    return drift_since is not None and minute - drift_since >= WINDOW


def _delta(now: float | None, before: float | None) -> int | None:
    """Launches since the previous probe; a counter that went back (a restarted pod) counts
    from zero, never negative."""
    if now is None or before is None:
        return None
    return int(now - before) if now >= before else int(now)


def run(
    minute: datetime,
    members: Sequence[Member],
    warehouse: Warehouse,
    settings: FederationSettings,
    incidents: IncidentRaiser | None = None,
    metrics: MetricsRecorder | None = None,
    project: str = "",
    now: datetime | None = None,
) -> Round:
    minute = minute.astimezone(UTC).replace(second=0, microsecond=0)
    stored = query(warehouse, "round", {"minute": minute})
    if stored:
        log.info("probe round %s: already done (a redelivered tick)", minute)
        return Round(minute, [ProbeRow(**r) for r in stored], repeated=True)
    probes = probe_all(members, settings.probe_timeout, settings.round_budget)
    previous = {r["member"]: r for r in query(warehouse, "previous", {"minute": minute})}
    recent = {
        r["member"]: r
        for r in query(warehouse, "recent_outcomes", {"minute": minute, "since": minute - WINDOW})
    }
    reference = next((p for p in probes if p.member == settings.reference), None)
    if reference is None and probes:
        reference = next((p for p in probes if p.member == members[0].name), None)
    result = Round(minute, [])
    stamp = now or datetime.now(UTC)
    for probe in probes:
        row = _row(
            probe,
            minute,
            previous.get(probe.member),
            recent.get(probe.member),
            reference,
            settings,
            stamp,
        )
        result.rows.append(row)
        _raise(row, previous.get(probe.member), incidents, result, project)
    if metrics is not None:
        for row in result.rows:
            labels = {"member": row.member}
            metrics.set("member_up", labels, 1 if row.up else 0)
            if row.response_ms is not None:
                metrics.set("member_response_ms", labels, row.response_ms)
            problems = {
                "down": not row.up,
                "drift": drifting(row.minute, row.drift_since),
                "low_success": bool(row.low_since),
            }
            for problem, found in problems.items():
                metrics.set("member_problem", {**labels, "problem": problem}, int(found))
    warehouse.insert("member_probes", result.rows)
    return result


def _row(
    probe: Probe,
    minute: datetime,
    before: dict | None,
    recent: dict | None,
    reference: Probe | None,
    settings: FederationSettings,
    stamp: datetime,
) -> ProbeRow:
    """The probe's row: the member's state carried on from its previous row."""
    previous_state = (
        State(before["up"], before["streak"], before["since"], before["run_start"])
        if before
        else None
    )
    state = step(
        previous_state,
        before["ok"] if before else None,
        probe.ok,
        minute,
        settings.down_after,
        settings.up_after,
    )
    drift = bool(
        reference is not None
        and reference.versions
        and probe.versions
        and probe.versions != reference.versions
    )
    drift_since = ((before or {}).get("drift_since") or minute) if drift else None
    counts = probe.counters or {}
    success = _delta(counts.get("success"), (before or {}).get("success_total"))
    failure = _delta(counts.get("failure"), (before or {}).get("failure_total"))
    total_success = (recent or {}).get("success", 0) + (success or 0)
    total_failure = (recent or {}).get("failure", 0) + (failure or 0)
    launched = total_success + total_failure
    low = (
        launched >= settings.min_launches and total_success / launched < settings.success_threshold
    )
    low_since = ((before or {}).get("low_since") or minute) if low else None
    return ProbeRow(
        f"{minute:%Y-%m-%dT%H:%M}/{probe.member}",
        minute,
        probe.member,
        probe.ok,
        probe.status,
        ", ".join(probe.failed_checks),
        probe.response_ms,
        probe.pods,
        probe.quota,
        probe.versions,
        drift,
        counts.get("success"),
        counts.get("failure"),
        success,
        failure,
        probe.error,
        state.up,
        state.streak,
        state.since,
        state.run_start,
        drift_since,
        low_since,
        stamp,
    )


def _incident(kind: str, row: ProbeRow, started: datetime, summary: str, project: str) -> Incident:
    slug = {DOWN: "down", DRIFT: "drift", SUCCESS: "success"}[kind]
    return Incident(
        incident_id=f"health-{slug}-{row.member}-{started:%Y%m%dT%H%M}",
        policy=kind,
        condition=f"{slug}: {row.member}",
        summary=summary,
        started=started,
        resource=row.member,
        documentation=(
            "Found by binderops' probe of the member's /health, /versions and /metrics each "
            "minute; see the federation status page for its history."
        ),
        metric="custom.googleapis.com/binderops/member_up",
        labels=(("member", row.member),),
        project=project,
    )


def _raise(
    row: ProbeRow,
    before: dict | None,
    incidents: IncidentRaiser | None,
    result: Round,
    project: str,
) -> None:
    """Open an incident where this round starts a problem, close one where it ends it."""
    was = before or {}
    changes = []
    if was.get("up", True) and not row.up:
        why = row.failed_checks or row.error
        summary = f"{row.member} has failed its health probe since {row.since:%Y-%m-%d %H:%M} UTC"
        changes.append(("open", DOWN, row.since, summary + (f" ({why})" if why else "")))
    if not was.get("up", True) and row.up:
        changes.append(("close", DOWN, was["since"], f"{row.member} answers its health probe"))
    drifted = bool(was) and drifting(was["minute"], was.get("drift_since"))
    if row.drift_since and drifting(row.minute, row.drift_since) and not drifted:
        summary = (
            f"{row.member}'s /versions has differed from the reference member's for 30 minutes"
        )
        changes.append(("open", DRIFT, row.drift_since, summary))
    if drifted and not row.drift_since:
        changes.append(("close", DRIFT, was["drift_since"], f"{row.member}'s versions match"))
    if row.low_since and not was.get("low_since"):
        summary = f"{row.member}'s launch success over 30 minutes is below the threshold"
        changes.append(("open", SUCCESS, row.low_since, summary))
    if was.get("low_since") and not row.low_since:
        summary = f"{row.member}'s launch success is above the threshold again"
        changes.append(("close", SUCCESS, was["low_since"], summary))
    for action, kind, started, summary in changes:
        incident = _incident(kind, row, started, summary, project)
        log.warning("health: %s %s: %s", action, incident.incident_id, summary)
        if incidents is None:
            continue
        if action == "open":
            incidents.open(incident)
            result.opened.append(incident.incident_id)
        else:
            # An outage ends at the first good probe of the run that ended it.
            incidents.close(incident, row.since if kind == DOWN else row.minute)
            result.closed.append(incident.incident_id)


def tick_minute(data: Any, event_time: str | None, now: datetime | None = None) -> datetime:
    """The minute a tick asks to probe: ``{"minute": ISO}`` in its message (a manual round),
    else the Pub/Sub message's publish time, else the CloudEvent's time, else now."""
    from ..clients.pubsub import json_data

    message = data.get("message") if isinstance(data, dict) else None
    candidates = [json_data(data).get("minute")]
    if isinstance(message, dict):
        candidates.append(message.get("publishTime"))
    candidates.append(event_time)
    for text in candidates:
        if isinstance(text, str):
            try:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
            if when.tzinfo is not None:
                return when.astimezone(UTC).replace(second=0, microsecond=0)
    return (now or datetime.now(UTC)).replace(second=0, microsecond=0)
