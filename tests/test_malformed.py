"""Zero 5xx on malformed input: a 5xx means "retry", and Pub/Sub (or GitHub) would, forever.

For every entry point, hypothesis takes the real payload and breaks it — values of the wrong
type, missing and extra fields, extreme numbers and dates, odd Unicode — and sends it
through the real functions-framework app with real services behind it (DuckDB, a local
issue folder, Cloud Build and Google's token endpoint on loopback). Only 2xx or 4xx may
come back; a CloudEvent function must acknowledge (2xx), logging what it dropped.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest
from cloudevents.conversion import to_binary
from events import V6, pubsub_event
from fakes.cloudbuild import TRIGGER, FakeCloudBuild, service_account_file
from fakes.http import RecordingServer
from functions_framework import create_app
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from binderops import instance
from binderops.local.send import alert_notification, push_event

ROOT = Path(__file__).resolve().parent.parent
MAIN = str(ROOT / "functions" / "main.py")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECRET = "webhook-secret"
REPO = "jupyterhub/mybinder.org-deploy"
# Stands for a number JSON can hold but Python reads as infinity (1e400) or a huge integer.
BIG = "__1e400__"
ODD_TEXT = [
    "",
    " ",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "0000-00-00",
    "2026-02-30",
    "-->",
    "<!-- x -->",
    "\u0000",
    "💥" * 3,
    "\u202eevil",
    "../..",
    "a" * 300,
    BIG,
]
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(ODD_TEXT)
)
JSON = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
EXAMPLES = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def paths(value, prefix=()):
    """Every key path into nested dicts (lists count as leaves)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from paths(inner, (*prefix, key))


@st.composite
def broken(draw, base: dict) -> bytes:
    """``base`` with a few fields replaced, removed or added, as JSON text."""
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        where = draw(st.sampled_from([(), *paths(document)]))
        parent = document
        for key in where[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if not where or not isinstance(parent, dict) or where[-1] not in parent:
            action = "add"
        if action == "replace":
            parent[where[-1]] = draw(JSON)
        elif action == "remove":
            del parent[where[-1]]
        else:
            target = parent.get(where[-1]) if where and isinstance(parent, dict) else document
            if isinstance(target, dict):
                target[draw(st.text(max_size=6))] = draw(JSON)
    return json.dumps(document).replace(f'"{BIG}"', "1e400").encode()


def posted(client, data: bytes, topic: str) -> int:
    headers, body = to_binary(pubsub_event(data, {}, str(uuid.uuid4().int % 10**12), topic=topic))
    return client.post("/", headers=headers, data=body).status_code


@pytest.fixture
def app(tmp_path, function_env):
    """An entry point of functions/main.py with every setting it needs, on local services."""
    fake_cloudbuild = FakeCloudBuild()
    with RecordingServer(fake_cloudbuild) as cloudbuild:
        function_env(
            BINDEROPS_WAREHOUSE=f"duckdb://{tmp_path / 'w.duckdb'}",
            BINDEROPS_STATE_DIR=str(tmp_path / "state"),
            BINDEROPS_PUBLIC_DIR=str(tmp_path / "public"),
            BINDEROPS_GITHUB_WEBHOOK_SECRET=SECRET,
            BINDEROPS_DEPLOY_REPOS=REPO,
            BINDEROPS_DEPLOY_BACKEND="cloudbuild",
            BINDEROPS_CLOUDBUILD_TRIGGER=TRIGGER,
            BINDEROPS_CLOUDBUILD_API_URL=cloudbuild.url,
            GOOGLE_APPLICATION_CREDENTIALS=str(
                service_account_file(tmp_path, f"{cloudbuild.url}/token")
            ),
            BINDEROPS_ALERT_TOKEN="alert-token",
        )

        def make(target: str, signature: str = "cloudevent"):
            return create_app(target, MAIN, signature).test_client()

        yield make
        instance.warehouse().close()


def as_json(document: dict) -> bytes:
    return json.dumps(document).replace(f'"{BIG}"', "1e400").encode()


@EXAMPLES
@given(data=broken(V6))
# Timestamps at the ends of the date range, which fall outside years 1-9999 in UTC.
@example(data=as_json({**V6, "timestamp": "0001-01-01T00:00:00+14:00"}))
@example(data=as_json({**V6, "timestamp": "9999-12-31T23:59:59-12:00"}))
@example(data=as_json({**V6, "version": BIG}))
def test_ingest_launch_acknowledges_every_malformed_event(app, data):
    assert posted(app("ingest_launch"), data, "launch-events") == 200


@EXAMPLES
@given(data=broken({"start": "2026-03-01", "end": "2026-03-02"}))
def test_export_costs_acknowledges_every_malformed_request(app, data):
    assert posted(app("export_costs"), data, "cost-export-ticks") == 200


@EXAMPLES
@given(data=broken({"start": "2026-03-01", "end": "2026-03-02"}))
@example(data=as_json({"start": "2026-03-01", "end": "9999-12-31"}))
@example(data=as_json({"start": BIG}))
def test_publish_archive_acknowledges_every_malformed_request(app, data):
    assert posted(app("publish_archive"), data, "archive-ticks") == 200


@EXAMPLES
@given(
    query=st.dictionaries(
        st.sampled_from(["repo", "provider", "period", "other", ""]), st.text(max_size=40)
    )
)
def test_usage_badge_answers_any_query_below_500(app, query):
    response = app("usage_badge", "http").get("/", query_string=query)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"


BUILD = json.loads((FIXTURES / "cloud-build-notification.json").read_text())
BUILD["substitutions"] |= {"_REPO": REPO, "_KIND": "push"}


@EXAMPLES
@given(data=broken(BUILD))
def test_deploy_status_acknowledges_every_malformed_build(app, data):
    assert posted(app("deploy_status"), data, "cloud-builds") == 200


NOTIFICATION = json.loads((FIXTURES / "monitoring-incident.json").read_text())


def incident_with(**fields) -> bytes:
    incident = {k: v for k, v in NOTIFICATION["incident"].items() if k != "condition_name"}
    return as_json({**NOTIFICATION, "incident": {**incident, **fields}})


@EXAMPLES
@given(data=broken(NOTIFICATION))
@example(data=incident_with(condition="a string where an object belongs"))
@example(data=incident_with(started_at=BIG))
@example(data=incident_with(started_at=10**20, ended_at=-1))
@example(data=incident_with(documentation={"links": 5, "content": ["a"]}))
def test_notify_incident_acknowledges_every_malformed_notification(app, data):
    assert posted(app("notify_incident"), data, "monitoring-alerts") == 200


@EXAMPLES
@given(data=broken(alert_notification("open", "0.prop", "Launch failures", 1_780_000_000)))
def test_notify_incident_http_answers_malformed_notifications_below_500(app, data):
    client = app("notify_incident_http", "http")
    response = client.post("/?token=alert-token", data=data, content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)


PUSH = push_event(REPO, "b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5")
LABELLED = {
    "action": "labeled",
    "label": {"name": "test-staging"},
    "number": 7,
    "sender": {"login": "someone"},
    "pull_request": {"head": {"sha": "d4" * 20}, "merged": False, "labels": []},
    "repository": {"full_name": REPO},
}
COMMENT = {
    "action": "created",
    "issue": {"number": 7, "pull_request": {"url": "x"}},
    "comment": {"body": "/test-this-pr", "author_association": "MEMBER", "user": {"login": "a"}},
    "repository": {"full_name": REPO},
}


@EXAMPLES
@given(
    case=st.sampled_from(
        [("push", PUSH), ("pull_request", LABELLED), ("issue_comment", COMMENT)]
    ).flatmap(lambda c: st.tuples(st.just(c[0]), broken(c[1])))
)
def test_github_webhook_answers_signed_malformed_payloads_below_500(app, case):
    event, body = case
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256="
        + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
    }
    response = app("github_webhook", "http").post("/", data=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)


def test_a_message_that_is_not_even_json_is_acknowledged_everywhere(app):
    for target, topic in [
        ("ingest_launch", "launch-events"),
        ("export_costs", "cost-export-ticks"),
        ("publish_archive", "archive-ticks"),
        ("publish_live", "live-ticks"),
        ("check_freshness", "freshness-ticks"),
        ("deploy_status", "cloud-builds"),
        ("notify_incident", "monitoring-alerts"),
    ]:
        for data in (b"", b"\xff\xfe", b"[]", b"null", base64.b64encode(b"{")):
            assert posted(app(target), data, topic) == 200, (target, data)


# Nesting: Python's json fails with RecursionError past about a thousand levels, which a
# framework answers 500 and a sender retries forever. Every entry point bounds it.
NESTING = st.tuples(
    st.sampled_from([64, 65, 1000, 1025, 100_000]) | st.integers(min_value=1, max_value=100_000),
    st.sampled_from(["[", "{"]),
)


def nested(base: dict, depth: int, kind: str) -> bytes:
    """``base`` with a value ``depth`` levels deep added (arrays, or objects) as JSON text."""
    inner = "[" * depth + "]" * depth if kind == "[" else '{"a":' * depth + "1" + "}" * depth
    return json.dumps({**base, "nested": "__NESTED__"}).replace('"__NESTED__"', inner).encode()


NESTED_EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CLOUDEVENT_TARGETS = [
    ("ingest_launch", "launch-events", V6),
    ("export_costs", "cost-export-ticks", {"start": "2026-03-01"}),
    ("publish_archive", "archive-ticks", {"start": "2026-03-01"}),
    ("publish_live", "live-ticks", {}),
    ("check_freshness", "freshness-ticks", {}),
    ("deploy_status", "cloud-builds", BUILD),
    ("notify_incident", "monitoring-alerts", NOTIFICATION),
]


@NESTED_EXAMPLES
@given(case=st.sampled_from(CLOUDEVENT_TARGETS), nesting=NESTING, bare=st.booleans())
def test_every_cloudevent_function_acknowledges_json_nested_to_any_depth(app, case, nesting, bare):
    target, topic, base = case
    depth, kind = nesting
    data = (kind * depth + {"[": "]", "{": "}"}[kind] * depth).encode() if bare else None
    assert posted(app(target), data or nested(base, depth, kind), topic) == 200


@NESTED_EXAMPLES
@given(nesting=NESTING)
def test_notify_incident_http_answers_json_nested_to_any_depth_with_a_4xx(app, nesting):
    body = nested(alert_notification("open", "0.n", "Launch failures", 1_780_000_000), *nesting)
    response = app("notify_incident_http", "http").post(
        "/?token=alert-token", data=body, content_type="application/json"
    )
    assert response.status_code == 400 or (response.status_code == 200 and nesting[0] < 64)


@NESTED_EXAMPLES
@given(nesting=NESTING, signed=st.booleans())
def test_github_webhook_answers_json_nested_to_any_depth_with_a_4xx(app, nesting, signed):
    body = nested(PUSH, *nesting)
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    if signed:
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    response = app("github_webhook", "http").post("/", data=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    if not signed:
        assert response.status_code == 401
    elif nesting[0] >= 64:
        assert response.status_code == 400
