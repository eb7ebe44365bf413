"""Freshness: a missing day, a silent or collapsing federation member is found; a normal
week and a new member's first days are quiet. Findings reach notify_incident's parser."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta

from fakes.http import RecordingServer, Response

from binderops import metrics
from binderops.core.config import read
from binderops.incidents import alerts
from binderops.launches import freshness
from binderops.launches.events import LaunchRow
from binderops.launches.settings import LaunchSettings
from binderops.metrics.sinks import WarehouseSink

DAY = date(2026, 3, 10)
IDS = itertools.count()


def launches(day: date, origin: str, count: int) -> list[LaunchRow]:
    when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return [
        LaunchRow(
            f"f{next(IDS)}",
            when,
            6,
            "GitHub",
            "a/b/HEAD",
            "a/b",
            "HEAD",
            "",
            "success",
            origin,
            False,
            "",
            when,
        )
        for _ in range(count)
    ]


def week(warehouse, today: dict[str, int], usual: dict[str, int] | None = None) -> None:
    """Eight days: the 7 before DAY with ``usual`` launches per origin, then ``today``."""
    usual = usual or {"gke": 100, "ovh": 40, "gesis": 30}
    rows = []
    for back in range(1, 8):
        for origin, count in usual.items():
            rows += launches(DAY - timedelta(days=back), origin, count)
    for origin, count in today.items():
        rows += launches(DAY, origin, count)
    warehouse.load("launches", rows)


def test_a_normal_week_is_quiet(warehouse):
    week(warehouse, {"gke": 90, "ovh": 45, "gesis": 25})
    result = freshness.check(warehouse, DAY, 0.5)
    assert result.findings == []
    assert result.origins == {"gesis": 25, "gke": 90, "ovh": 45}


def test_a_day_without_launches_is_missing(warehouse):
    week(warehouse, {})
    [finding] = freshness.check(warehouse, DAY, 0.5).findings
    assert (finding.origin, finding.problem, finding.median) == ("*", "missing_day", 170)


def test_a_silent_member_and_a_collapsing_one_are_found(warehouse):
    week(warehouse, {"gke": 100, "ovh": 0, "gesis": 14})
    findings = freshness.check(warehouse, DAY, 0.5).findings
    assert [(f.origin, f.problem, f.launches) for f in findings] == [
        ("gesis", "drop", 14),
        ("ovh", "silent_origin", 0),
    ]
    assert findings[0].describe(DAY) == (
        "gesis recorded 14 launches on 2026-03-10, against a 7-day median of 30"
    )


def test_the_drop_threshold_is_the_setting(warehouse):
    week(warehouse, {"gke": 100, "ovh": 40, "gesis": 14})
    assert freshness.check(warehouse, DAY, 0.6).findings == []


def test_a_new_members_first_days_are_quiet(warehouse):
    week(warehouse, {"gke": 100, "ovh": 40, "gesis": 30})
    rows = launches(DAY - timedelta(days=2), "new", 50) + launches(DAY, "new", 1)
    warehouse.load("launches", rows)
    result = freshness.check(warehouse, DAY, 0.5)
    assert result.findings == [] and "new" not in result.origins


def test_every_member_and_problem_gets_a_gauge(warehouse):
    week(warehouse, {"gke": 100, "ovh": 0, "gesis": 30})
    recorder = metrics.Recorder(WarehouseSink(warehouse))
    freshness.record(freshness.check(warehouse, DAY, 0.5), recorder)
    recorder.write()
    rows = warehouse.query("SELECT labels, value FROM raw.metrics WHERE metric = 'freshness'")
    values = {r["labels"]: r["value"] for r in rows}
    assert len(values) == 3 * 3 + 1
    assert values['{"origin": "ovh", "problem": "silent_origin"}'] == 1
    assert values['{"origin": "gke", "problem": "drop"}'] == 0
    assert values['{"origin": "*", "problem": "missing_day"}'] == 0


def test_findings_are_posted_as_monitoring_notifications(warehouse, function_env):
    from binderops import instance

    week(warehouse, {"gke": 100, "ovh": 0, "gesis": 30})
    answers = [Response(503, {"error": "busy"}), Response(200, {"state": "open"})]
    with RecordingServer(lambda request: answers.pop(0)) as server:
        url = f"{server.url}/?token=alert-token"
        function_env(BINDEROPS_FRESHNESS_ALERT_URL=url)
        settings = read(LaunchSettings, {"BINDEROPS_FRESHNESS_ALERT_URL": url})
        freshness.run(warehouse, settings, None, "binder-project", DAY, instance.incidents())
    # Through the one HTTP client: the endpoint is idempotent, so a 503 is simply retried.
    first, request = server.requests
    assert first.body == request.body
    assert request.query == {"token": ["alert-token"]}
    alert = alerts.parse(request.body)
    assert alert.incident_id == "freshness-2026-03-10-silent_origin-ovh"
    assert alert.state == "open" and alert.policy == "Launch data freshness"
    body = json.loads(request.body)
    assert body["incident"]["metric"]["labels"] == {"origin": "ovh", "problem": "silent_origin"}
    assert "ovh recorded no launches on 2026-03-10" in body["incident"]["summary"]


def test_the_command_prints_each_finding_once(tmp_path):
    """`binderops freshness` says what it found on stdout, and the log does not say it again."""
    import os
    import subprocess
    import sys

    from binderops.warehouse import open_warehouse

    path = tmp_path / "w.duckdb"
    warehouse = open_warehouse(f"duckdb://{path}")
    week(warehouse, {"gke": 100, "gesis": 30})  # ovh fell silent on DAY
    warehouse.close()
    result = subprocess.run(
        [sys.executable, "-m", "binderops.local.cli", "freshness", "--day", str(DAY)],
        capture_output=True,
        text=True,
        env={**os.environ, "BINDEROPS_WAREHOUSE": f"duckdb://{path}"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert said.count("ovh") == 1 and "ovh recorded no launches" in result.stdout, said
