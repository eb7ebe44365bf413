"""Decoding, validating and normalising launch events, and what ingest stores."""

import base64
import json
from datetime import UTC, datetime

import pytest
from events import V6
from hypothesis import given, settings
from hypothesis import strategies as st

from binderops.launches import events as launches
from binderops.launches.events import InvalidEvent, decode, to_row
from binderops.launches.ingest import Message, ingest
from binderops.warehouse import schemas

NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
COLUMNS = [
    "event_id",
    "timestamp",
    "schema_version",
    "provider",
    "spec",
    "repo",
    "ref",
    "resolved_ref",
    "status",
    "origin",
    "build_token",
    "request_origin",
    "ingested_at",
]


def b64(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.b64encode(raw).decode()


def row(event, event_id="e1"):
    return dict(zip(COLUMNS, to_row(event, event_id, NOW, "mybinder.org")))


def test_v6_event_becomes_a_row_with_timestamp_truncated_to_the_minute():
    assert row(V6) == {
        "event_id": "e1",
        "timestamp": datetime(2026, 3, 1, 12, 34, tzinfo=UTC),
        "schema_version": 6,
        "provider": "GitHub",
        "spec": "binder-examples/requirements/HEAD",
        "repo": "binder-examples/requirements",
        "ref": "HEAD",
        "resolved_ref": "50533eb",
        "status": "success",
        "origin": "gesis.mybinder.org",
        "build_token": False,
        "request_origin": "same-origin",
        "ingested_at": NOW,
    }


def test_timestamps_with_offsets_are_stored_in_utc():
    assert row({**V6, "timestamp": "2026-03-01T14:34:59+02:00"})["timestamp"] == datetime(
        2026, 3, 1, 12, 34, tzinfo=UTC
    )


@pytest.mark.parametrize("version", [1, 2])
def test_events_before_v3_get_the_default_origin_and_read_only_their_own_fields(version):
    event = {**V6, "version": version}  # carries later fields, which v1/v2 do not define
    r = row(event)
    assert r["origin"] == "mybinder.org"
    assert (r["resolved_ref"], r["build_token"], r["request_origin"]) == ("", None, None)
    assert r["schema_version"] == version


def test_each_version_reads_the_fields_it_added():
    assert row({**V6, "version": 3})["origin"] == "gesis.mybinder.org"
    assert row({**V6, "version": 3})["resolved_ref"] == ""
    assert row({**V6, "version": 4})["resolved_ref"] == "50533eb"
    assert row({**V6, "version": 4})["build_token"] is None
    assert row({**V6, "version": 5, "build_token": True})["build_token"] is True
    assert row({**V6, "version": 5})["request_origin"] is None


def test_fields_outside_the_schema_are_never_stored():
    r = row(
        {
            **V6,
            "remote_ip": "198.51.100.7",
            "user": "someone",
            "headers": {"x-forwarded-for": "1.2.3.4"},
        }
    )
    text = repr(r)
    assert "198.51.100.7" not in text and "someone" not in text and "1.2.3.4" not in text


@pytest.mark.parametrize(
    "event, reason",
    [
        ({**V6, "version": 7}, "unknown launch schema version '7'"),
        ({**V6, "version": "6"}, "unknown launch schema version '6'"),
        ({**V6, "version": True}, "unknown launch schema version 'True'"),
        ({k: v for k, v in V6.items() if k != "version"}, "unknown launch schema version 'None'"),
        ({**V6, "provider": "SVN"}, "invalid v6 launch event: data.provider must be one of"),
        ({**V6, "status": "maybe"}, "invalid v6 launch event: data.status must be one of"),
        ({**V6, "build_token": "yes"}, "invalid v6 launch event: data.build_token must be boolean"),
        ({**V6, "spec": 42}, "invalid v6 launch event: data.spec must be string"),
        (
            {**V6, "schema": "other/schema"},
            "invalid v6 launch event: data.schema must be same as const",
        ),
        (
            {k: v for k, v in V6.items() if k != "timestamp"},
            "data must contain ['timestamp'] properties",
        ),
        ({**V6, "timestamp": "yesterday"}, "is not an RFC 3339 date-time"),
        ({**V6, "timestamp": "2026-03-01T12:00:00"}, "has no time zone"),
        ({**V6, "timestamp": "2027-03-01T12:00:00Z"}, "is in the future"),
    ],
)
def test_invalid_events_are_rejected_with_a_reason(event, reason):
    with pytest.raises(InvalidEvent) as info:
        to_row(event, "e1", NOW, "mybinder.org")
    assert reason in str(info.value)


@pytest.mark.parametrize(
    "document",
    [
        V6,
        {"logName": "projects/p/logs/binderhub", "jsonPayload": V6},
        {
            "logName": "projects/p/logs/binderhub",
            "jsonPayload": {"message": V6, "levelname": "INFO"},
        },
        {"logName": "projects/p/logs/binderhub", "jsonPayload": {"event": V6}},
        {"logName": "projects/p/logs/binderhub", "jsonPayload": {"message": json.dumps(V6)}},
        {
            "logName": "projects/p/logs/binderhub",
            "textPayload": json.dumps(V6),
            "httpRequest": {"remoteIp": "203.0.113.9"},
        },
    ],
    ids=[
        "bare",
        "jsonPayload",
        "jsonPayload.message",
        "jsonPayload.event",
        "jsonPayload.message-text",
        "textPayload",
    ],
)
def test_bare_events_and_log_entries_decode_to_the_same_event(document):
    assert decode(b64(document), 65536) == V6


@pytest.mark.parametrize(
    "data, reason",
    [
        ("not base64!", "message data is not valid base64"),
        (b64(b"{oops"), "message data is not valid JSON"),
        (b64([1, 2]), "message data is JSON but not an object"),
        (
            b64({"logName": "x", "jsonPayload": {"msg": "hello"}}),
            "jsonPayload carries no launch event",
        ),
        (b64({"logName": "x", "textPayload": "GET /health 200"}), "textPayload is not valid JSON"),
        (b64({**V6, "spec": "x" * 70000}), "exceeds the 65536-byte limit"),
        ("", "message data is not valid JSON"),
    ],
)
def test_undecodable_messages_are_rejected_with_a_reason(data, reason):
    with pytest.raises(InvalidEvent) as info:
        decode(data, 65536)
    assert reason in str(info.value)


def test_event_id_is_the_publisher_attribute_else_the_message_id():
    assert Message("", {"event_id": "pub-1"}, "m-1").event_id == "pub-1"
    assert Message("", {}, "m-1").event_id == "m-1"


def test_two_identical_launches_in_one_minute_both_count(warehouse):
    for message_id in ("m-1", "m-2"):
        ingest(Message(b64(V6), {}, message_id), warehouse, "mybinder.org", 65536, NOW)
    assert warehouse.query("SELECT COUNT(*) AS n FROM launches") == [{"n": 2}]


def test_redelivered_message_is_stored_once(warehouse):
    message = Message(b64(V6), {"event_id": "pub-1"}, "m-1")
    outcomes = [ingest(message, warehouse, "mybinder.org", 65536, NOW) for _ in range(3)]
    assert {o.status for o in outcomes} == {"stored"}
    assert warehouse.query("SELECT event_id FROM launches") == [{"event_id": "pub-1"}]


def test_malformed_message_is_recorded_once_and_acknowledged(warehouse):
    message = Message(b64({**V6, "version": 99}), {}, "m-9")
    outcome = ingest(message, warehouse, "mybinder.org", 65536, NOW)
    ingest(message, warehouse, "mybinder.org", 65536, NOW)
    assert (outcome.status, outcome.reason) == ("rejected", "unknown launch schema version '99'")
    rows = warehouse.query("SELECT event_id, reason, payload FROM raw.launch_errors")
    assert rows == [
        {
            "event_id": "m-9",
            "reason": "unknown launch schema version '99'",
            "payload": json.dumps({**V6, "version": 99}),
        }
    ]
    assert warehouse.query("SELECT COUNT(*) AS n FROM launches") == [{"n": 0}]


def test_rejected_log_entries_keep_no_request_metadata_or_addresses(warehouse):
    entry = {
        "logName": "projects/p/logs/binderhub",
        "httpRequest": {"remoteIp": "203.0.113.9", "userAgent": "Mozilla"},
        "labels": {"user": "someone"},
        "jsonPayload": {
            "message": {**V6, "provider": "SVN", "client": "2001:db8::1", "via": "198.51.100.23"}
        },
    }
    ingest(Message(b64(entry), {}, "m-3"), warehouse, "mybinder.org", 65536, NOW)
    (stored,) = warehouse.query("SELECT payload FROM raw.launch_errors")
    payload = stored["payload"]
    for secret in ("203.0.113.9", "Mozilla", "someone", "2001:db8::1", "198.51.100.23"):
        assert secret not in payload
    assert "[address]" in payload and "SVN" in payload


def test_error_payloads_are_capped_at_64_kib(warehouse):
    huge = "x" * 200_000
    ingest(Message(b64(huge.encode()), {}, "m-4"), warehouse, "mybinder.org", 1_000_000, NOW)
    (stored,) = warehouse.query("SELECT LENGTH(payload) AS n FROM raw.launch_errors")
    assert stored["n"] == launches.ERROR_PAYLOAD_BYTES


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300), st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())
    )
)
def test_decode_never_crashes_on_arbitrary_data(data):
    try:
        event = decode(data, 65536)
        to_row(event, "e", NOW, "mybinder.org")
    except InvalidEvent:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"version": st.one_of(st.integers(0, 8), json_values)},
        optional={k: st.one_of(st.just(v), json_values) for k, v in V6.items() if k != "version"},
    ),
    st.booleans(),
)
def test_any_event_shaped_json_either_validates_or_is_rejected(event, wrap):
    document = {"logName": "l", "jsonPayload": {"message": event}} if wrap else event
    try:
        r = dict(zip(COLUMNS, to_row(decode(b64(document), 65536), "e", NOW, "mybinder.org")))
    except InvalidEvent:
        return
    assert r["timestamp"].second == 0 and r["timestamp"].microsecond == 0
    assert r["provider"] in (
        None,
        *schemas.launch_event_schemas()[6]["properties"]["provider"]["enum"],
    )


@pytest.mark.parametrize(
    "text, masked",
    [
        ("from 198.51.100.23 today", "from [address] today"),
        ("peer 198.51.100.23:8080", "peer [address]"),
        ('"2001:db8::1"', '"[address]"'),
        ("[fe80::1ff:fe23:4567:890a]:443", "[[address]]:443"),
        ("::ffff:192.0.2.1", "[address]"),
        ("version 1.2.3 at 12:34:56, sha abc.def", "version 1.2.3 at 12:34:56, sha abc.def"),
    ],
)
def test_addresses_are_masked_and_nothing_else(text, masked):
    assert launches.mask_addresses(text) == masked


def test_first_events_on_many_threads_at_once_all_validate():
    """functions-framework serves on several threads: the validators built on the first
    request must be complete for every thread (a half-built table once rejected a launch)."""
    import threading

    results = []
    for _ in range(5):
        launches._validators.cache_clear()
        barrier = threading.Barrier(8)

        def first_request(barrier=barrier):
            barrier.wait()
            try:
                results.append(to_row(V6, "e", NOW, "mybinder.org")[2])
            except InvalidEvent as e:
                results.append(str(e))

        threads = [threading.Thread(target=first_request) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [6] * 40
