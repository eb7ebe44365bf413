"""``ingest_launch`` as functions-framework serves it, driven with real CloudEvents."""

import base64
import json
from pathlib import Path

import pytest
import requests
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from events import pubsub_event
from functions_framework import create_app

from binderops import instance
from binderops.local import services as local

ROOT = Path(__file__).resolve().parent.parent
EVENT = {
    "timestamp": "2026-03-01T12:34:56Z",
    "schema": "binderhub.jupyter.org/launch",
    "version": 6,
    "provider": "GitLab",
    "spec": "gitlab.com%2Fgroup%2Fproject/main",
    "status": "success",
    "origin": "gke.mybinder.org",
}


@pytest.fixture
def client(tmp_path, monkeypatch):
    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    monkeypatch.setenv("BINDEROPS_WAREHOUSE", url)
    instance.reset()

    def make(source="functions/main.py"):
        app = create_app("ingest_launch", str(ROOT / source), "cloudevent")
        return app.test_client()

    yield make
    instance.warehouse().close()
    instance.reset()


def stored(sql: str):
    warehouse = instance.warehouse()
    try:
        return warehouse.query(sql)
    finally:
        warehouse.close()


def test_binary_mode_cloudevent_is_stored(client):
    headers, body = to_binary(pubsub_event(json.dumps(EVENT).encode(), {"event_id": "pub-7"}))
    response = client().post("/", headers=headers, data=body)
    assert response.status_code == 200
    assert stored("SELECT event_id, repo, ref, origin FROM launches") == [
        {
            "event_id": "pub-7",
            "repo": "gitlab.com/group/project",
            "ref": "main",
            "origin": "gke.mybinder.org",
        }
    ]


def test_structured_mode_cloudevent_uses_the_message_id_without_attribute(client):
    headers, body = to_structured(pubsub_event(json.dumps(EVENT).encode(), message_id="42"))
    response = client().post("/", headers=headers, data=body)
    assert response.status_code == 200
    assert stored("SELECT event_id FROM launches") == [{"event_id": "42"}]


def test_raw_pubsub_push_is_accepted(client):
    push = {
        "message": {
            "data": base64.b64encode(json.dumps(EVENT).encode()).decode(),
            "messageId": "77",
            "attributes": {},
        },
        "subscription": "projects/p/subscriptions/push",
    }
    response = client().post("/projects/p/topics/launch-events", json=push)
    assert response.status_code == 200
    assert stored("SELECT event_id FROM launches") == [{"event_id": "77"}]


def test_poison_message_is_acknowledged_and_recorded(client):
    headers, body = to_binary(pubsub_event(b"\x00\xffnot json", {"event_id": "bad-1"}))
    response = client().post("/", headers=headers, data=body)
    assert response.status_code == 200  # acknowledged: Pub/Sub will not retry it forever
    (error,) = stored("SELECT event_id, reason FROM raw.launch_errors")
    assert error["event_id"] == "bad-1"
    assert error["reason"].startswith("message data is not valid JSON: str is not valid UTF-8")


def test_cloudevent_without_a_pubsub_message_is_recorded_not_retried(client):
    event = CloudEvent(
        {"id": "odd-1", "type": "google.cloud.pubsub.topic.v1.messagePublished", "source": "//x"},
        {"hello": "world"},
    )
    headers, body = to_binary(event)
    assert client().post("/", headers=headers, data=body).status_code == 200
    assert stored("SELECT event_id, reason FROM raw.launch_errors") == [
        {
            "event_id": "odd-1",
            "reason": "message data is not valid JSON: Input is a zero-length, empty document: "
            "line 1 column 1 (char 0)",
        }
    ]


def test_transient_warehouse_failure_answers_500_so_pubsub_redelivers(client):
    app = client("tests/faulty_main.py")
    codes = []
    for n in range(1, 11):
        headers, body = to_binary(
            pubsub_event(json.dumps(EVENT).encode(), {"event_id": f"e{n}"}, message_id=str(n))
        )
        codes.append(app.post("/", headers=headers, data=body).status_code)
    assert codes == [200, 200, 200, 200, 500, 200, 200, 200, 200, 500]
    # The 10th write landed before failing; a redelivery of e5 and e10 then makes 10 rows.
    assert stored("SELECT COUNT(*) AS n FROM launches") == [{"n": 9}]


def test_logs_say_what_happened_to_each_event(tmp_path):
    """A real functions-framework process on Cloud Run's terms (K_SERVICE set): one JSON
    log line per event, with severity, naming the event and never its payload."""
    env = {"K_SERVICE": "ingest-launch", "BINDEROPS_WAREHOUSE": f"duckdb://{tmp_path / 'w.duckdb'}"}
    server = local.start_function("ingest_launch", env, tmp_path)
    try:
        for event_id, data in (
            ("good-1", json.dumps(EVENT).encode()),
            ("bad-1", b'{"version": 9, "ip": "192.0.2.1"}'),
        ):
            headers, body = to_binary(pubsub_event(data, {"event_id": event_id}))
            assert (
                requests.post(server.url, headers=headers, data=body, timeout=10).status_code == 200
            )
    finally:
        server.stop()
    log = server.log_path.read_text()
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert {
        "severity": "INFO",
        "message": "stored launch event good-1",
        "logger": "binderops.launches",
    } in entries
    assert {
        "severity": "WARNING",
        "message": "rejected launch event bad-1: unknown launch schema version '9'",
        "logger": "binderops.launches",
        "kind": "version",  # the error's kind: what a log-based metric counts
    } in entries
    assert "192.0.2.1" not in log
