"""Operational metrics through the real google-cloud-monitoring client to a loopback server
that checks each request, and into the local warehouse."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest
from cloudevents.conversion import to_binary
from events import V6, pubsub_event
from fakes.monitoring import FakeMonitoring
from functions_framework import create_app

from binderops import instance, metrics
from binderops.launches.ingest import Message, ingest
from binderops.metrics.sinks import MonitoringSink, WarehouseSink

ROOT = Path(__file__).resolve().parent.parent
EVENT = {
    "timestamp": "2026-03-01T12:34:56Z",
    "version": 6,
    "provider": "GitHub",
    "spec": "a/b/HEAD",
    "status": "success",
    "origin": "gke.mybinder.org",
}


class Clock:
    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def message(n: int, event: dict | None = None, data: str | None = None) -> Message:
    encoded = data if data is not None else base64.b64encode(json.dumps(event or EVENT).encode())
    text = encoded if isinstance(encoded, str) else encoded.decode()
    return Message(text, {"event_id": f"m-{n}"}, str(n))


def test_a_burst_of_launches_writes_each_series_at_most_once_a_minute(warehouse):
    fake, clock = FakeMonitoring(), Clock()
    with fake as server:
        sink = MonitoringSink("binder-project", "us-central1", "ingest-launch", server.url)
        recorder = metrics.Recorder(sink, clock=clock)
        # A few launches through ingest (the labels it records), then a burst of 10,000.
        for n in range(4):
            other = {**EVENT, "origin": "ovh.mybinder.org"} if n == 0 else EVENT
            ingest(message(n, other), warehouse, "mybinder.org", 10_000, metrics=recorder)
        ingest(message(-1, data="%%%"), warehouse, "mybinder.org", 10_000, metrics=recorder)
        labels = {"origin": "gke.mybinder.org", "provider": "GitHub", "status": "success"}
        for n in range(10_000):
            recorder.add("launches", labels if n % 4 else {**labels, "origin": "ovh.mybinder.org"})
            clock.now += 0.001  # ten seconds for the burst
        assert len(fake.calls) == 1  # the first launch, written at once; the rest wait
        clock.now += 60
        recorder.write_if_due()
        recorder.write_if_due()  # nothing changed since: nothing written
    assert len(fake.calls) == 2
    first, second = fake.calls
    assert [s["metric"]["labels"]["origin"] for s in first] == ["ovh.mybinder.org"]
    by_origin = {s["metric"]["labels"].get("origin"): s for s in second}
    gke, ovh = by_origin["gke.mybinder.org"], by_origin["ovh.mybinder.org"]
    assert gke["metric"] == {
        "type": "custom.googleapis.com/binderops/launches",
        "labels": {"origin": "gke.mybinder.org", "provider": "GitHub", "status": "success"},
    }
    assert gke["metricKind"] == "CUMULATIVE" and gke["valueType"] == "INT64"
    assert gke["points"][0]["value"] == {"int64Value": "7503"}
    assert ovh["points"][0]["value"] == {"int64Value": "2501"}
    interval = gke["points"][0]["interval"]
    assert interval["startTime"] == "2026-05-28T20:26:40Z"  # the instance's start
    assert interval["endTime"].startswith("2026-05-28T20:27:")  # 70 s later
    assert gke["resource"] == {
        "type": "generic_task",
        "labels": {
            "project_id": "binder-project",
            "location": "us-central1",
            "namespace": "binderops",
            "job": "ingest-launch",
            "task_id": recorder.instance,
        },
    }
    rejected = by_origin[None]
    assert rejected["metric"]["labels"] == {"reason": "base64"}
    assert rejected["points"][0]["value"] == {"int64Value": "1"}


def test_many_series_are_written_in_calls_of_200_and_gauges_carry_no_start(warehouse):
    fake, clock = FakeMonitoring(), Clock()
    with fake as server:
        recorder = metrics.Recorder(MonitoringSink("p", "global", "local", server.url), clock=clock)
        clock.now -= 60  # the first write is due at once
        recorder._last_write = clock.now
        clock.now += 60
        for n in range(449):
            recorder._values[
                ("launches", (("origin", f"o{n}"), ("provider", "GitHub"), ("status", "success")))
            ] = n
            recorder._changed.add(
                ("launches", (("origin", f"o{n}"), ("provider", "GitHub"), ("status", "success")))
            )
        recorder.set("deploy_duration", {"environment": "production"}, 12.5)
    assert [len(call) for call in fake.calls] == [200, 200, 50]
    [gauge] = [s for s in fake.series if s["metric"]["type"].endswith("deploy_duration")]
    assert gauge["metricKind"] == "GAUGE" and gauge["valueType"] == "DOUBLE"
    assert gauge["points"][0]["value"] == {"doubleValue": 12.5}
    assert set(gauge["points"][0]["interval"]) == {"endTime"}


def test_a_failed_write_is_logged_and_its_series_kept_for_the_next(warehouse, caplog):
    fake, clock = FakeMonitoring(fail=1), Clock()
    with fake as server, caplog.at_level(logging.WARNING):
        recorder = metrics.Recorder(MonitoringSink("p", "global", "local", server.url), clock=clock)
        recorder.add("deploys", {"environment": "staging", "result": "success"})
        assert fake.calls == []
        assert "1 series not written" in caplog.text
        clock.now += 60
        recorder.write_if_due()
    [[series]] = fake.calls
    assert series["points"][0]["value"] == {"int64Value": "1"}


def test_labels_must_be_the_catalogs():
    recorder = metrics.Recorder(WarehouseSink(None))
    with pytest.raises(ValueError, match="takes the labels"):
        recorder.add("deploys", {"environment": "staging"})


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("data", "event", "kind"),
    [
        (_b64("x" * 99), None, "too_large"),
        ("not base64!", None, "base64"),
        (_b64("{"), None, "json"),
        (_b64('{"textPayload": "{"}'), None, "log_entry"),
        (None, {**V6, "version": 9}, "version"),
        (None, {**V6, "spec": 5}, "schema"),
        (None, {**V6, "timestamp": "2099-01-01T00:00:00Z"}, "timestamp"),
    ],
)
def test_each_rejection_carries_its_kind_from_where_it_is_raised(data, event, kind):
    """The rejected_launches label is the error's ``kind``, not a guess from its wording."""
    from datetime import UTC, datetime

    from binderops.launches.events import InvalidEvent, decode, to_row

    with pytest.raises(InvalidEvent) as raised:
        if data is not None:
            decode(data, 64)
        else:
            to_row(event, "e1", datetime(2026, 3, 2, tzinfo=UTC), "mybinder.org")
    assert raised.value.kind == kind


def test_the_warehouse_sink_writes_rows_the_dashboard_reads(warehouse):
    clock = Clock()
    recorder = metrics.Recorder(WarehouseSink(warehouse), clock=clock)
    recorder.add("launches", {"origin": "gke", "provider": "GitHub", "status": "success"}, 3)
    recorder.set("open_incidents", {}, 2)  # not due yet: the first write was the add's
    clock.now += 60
    recorder.write_if_due()
    rows = warehouse.query(
        "SELECT metric, labels, value, start_time FROM raw.metrics ORDER BY time, metric"
    )
    assert [(r["metric"], r["labels"], r["value"]) for r in rows] == [
        ("launches", '{"origin": "gke", "provider": "GitHub", "status": "success"}', 3.0),
        ("open_incidents", "{}", 2.0),
    ]
    assert rows[0]["start_time"] is not None and rows[1]["start_time"] is None


def test_ingest_launch_writes_metrics_through_the_function(tmp_path, function_env):
    fake = FakeMonitoring()
    with fake as server:
        function_env(
            BINDEROPS_WAREHOUSE=f"duckdb://{tmp_path / 'w.duckdb'}",
            BINDEROPS_METRICS="monitoring",
            BINDEROPS_MONITORING_API_URL=server.url,
            BINDEROPS_PROJECT="binder-project",
        )
        client = create_app(
            "ingest_launch", str(ROOT / "functions/main.py"), "cloudevent"
        ).test_client()
        for n in range(50):
            headers, body = to_binary(
                pubsub_event(json.dumps(EVENT).encode(), {"event_id": f"f{n}"})
            )
            assert client.post("/", headers=headers, data=body).status_code == 200
        assert len(fake.calls) == 1  # the first launch; the other 49 wait for the minute
        instance.metrics().write()  # what a clean shutdown does
        instance.warehouse().close()
    assert fake.calls[-1][0]["points"][0]["value"] == {"int64Value": "50"}
    assert set(fake.names) == {"projects/binder-project"}
