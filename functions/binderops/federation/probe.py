"""One probe round: every member of the register asked, at once, how it is.

Per member: ``GET /health`` (ok, which checks failed, pods against quota), ``GET /versions``
(compared with the reference member's), and ``GET /metrics`` where it answers (BinderHub's
launch counters, parsed by prometheus_client). Each request has its own timeout and the
whole round a budget: a member that has not answered in time is a failed probe, and the
round goes on without it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import requests

from ..clients.http import Rejected, RetryPolicy, Unavailable, call
from ..core.members import Member

# Launch outcomes counted from the launch-time histogram, as mybinder.org's Grafana does:
# success over everything but retries.
OUTCOMES = ("success", "failure")
COUNTER = "binderhub_launch_time_seconds"


@dataclass(frozen=True)
class Probe:
    """What one member said in one round."""

    member: str
    ok: bool
    status: int  # /health's HTTP status; 0 when it did not answer
    failed_checks: tuple[str, ...] = ()
    response_ms: float | None = None
    pods: int | None = None
    quota: int | None = None
    versions: str = ""  # /versions, as sent (compact JSON), for the drift check
    counters: dict[str, float] | None = None  # launch outcomes so far; None: no /metrics
    error: str = ""


def counters(text: str) -> dict[str, float]:
    """The launch-time histogram's counts by status (``retry`` left out), from Prometheus text."""
    from prometheus_client.parser import text_string_to_metric_families

    found = dict.fromkeys(OUTCOMES, 0.0)
    for family in text_string_to_metric_families(text):
        if family.name != COUNTER:
            continue
        for sample in family.samples:
            if sample.name == f"{COUNTER}_count" and sample.labels.get("status") in found:
                found[sample.labels["status"]] += sample.value
    return found


def _get(session: requests.Session, url: str, what: str, timeout: float) -> requests.Response:
    policy = RetryPolicy(attempts=1, timeout=(min(2.0, timeout), timeout), backoff=0, max_wait=0)
    # /health answers 503 with its checks when it is not ok: a reading, not a failure to read.
    return call(session, "GET", url, what, policy, accept=(503,))


def probe(member: Member, timeout: float) -> Probe:
    """Ask one member: /health (required), then /versions and /metrics (where they answer)."""
    with requests.Session() as session:
        return _probe(member, session, timeout)


def _probe(member: Member, session: requests.Session, timeout: float) -> Probe:
    started = time.monotonic()
    try:
        response = _get(session, f"{member.url}/health", f"{member.name} /health", timeout)
    except (Unavailable, Rejected) as e:
        return Probe(member.name, False, getattr(e, "status", 0) or 0, error=str(e)[:300])
    elapsed = round((time.monotonic() - started) * 1000, 1)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        return Probe(
            member.name, False, response.status_code, (), elapsed, error="/health is not JSON"
        )
    checks = [c for c in body.get("checks") or [] if isinstance(c, dict)]
    failed = tuple(str(c.get("service"))[:100] for c in checks if c.get("ok") is False)
    quota_check = next((c for c in checks if c.get("service") == "Pod quota"), {})
    pods, quota = quota_check.get("total_pods"), quota_check.get("quota")
    versions = ""
    try:
        answer = _get(session, f"{member.url}/versions", f"{member.name} /versions", timeout)
        found = answer.json()
        if isinstance(found, dict):
            versions = json.dumps(
                {k: found.get(k) for k in ("binderhub", "builder")}, sort_keys=True
            )
    except (Unavailable, Rejected, ValueError):
        pass
    outcomes = None
    try:
        text = _get(session, f"{member.url}/metrics", f"{member.name} /metrics", timeout).text
        outcomes = counters(text)
    except (Unavailable, Rejected, ValueError):
        pass
    return Probe(
        member.name,
        body["ok"] and response.status_code == 200,
        response.status_code,
        failed,
        elapsed,
        pods if isinstance(pods, int) else None,
        quota if isinstance(quota, int) else None,
        versions,
        outcomes,
    )


def probe_all(members: Sequence[Member], timeout: float, budget: float) -> list[Probe]:
    """Every member at once; one that has not answered within ``budget`` seconds is a
    failed probe (its thread ends by its own timeouts)."""
    if not members:
        return []
    pool = ThreadPoolExecutor(max_workers=min(32, len(members)))
    futures = {pool.submit(probe, m, timeout): m for m in members}
    done, _ = wait(futures, timeout=budget)
    pool.shutdown(wait=False, cancel_futures=True)
    found = []
    for future, member in futures.items():
        if future in done and future.exception() is None:
            found.append(future.result())
        else:
            found.append(Probe(member.name, False, 0, error="no answer within the round's budget"))
    return found
