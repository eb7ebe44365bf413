"""Federation health: real fake members over loopback HTTP (their /metrics written by
prometheus_client), rounds stored in DuckDB, incidents raised through the seam, the status
page read by feedparser and a real browser, and probe_members through functions-framework."""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from test_dashboard import Quiet, open_page

from binderops.core.config import Settings, read
from binderops.core.members import Member
from binderops.federation import rounds, status
from binderops.federation.settings import FederationSettings
from binderops.incidents.seam import Incident
from binderops.local.fake_members import FakeMember

T0 = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
MAIN = str(Path(__file__).resolve().parent.parent / "functions" / "main.py")
FAST = {"BINDEROPS_PROBE_TIMEOUT_SECONDS": "1", "BINDEROPS_PROBE_ROUND_SECONDS": "3"}


@dataclass
class Recorded:
    """An IncidentRaiser that keeps what it was asked (the seam's protocol)."""

    opened: list[Incident] = field(default_factory=list)
    closed: list[tuple[Incident, datetime]] = field(default_factory=list)

    def open(self, incident: Incident) -> None:
        self.opened.append(incident)

    def close(self, incident: Incident, ended: datetime) -> None:
        self.closed.append((incident, ended))


@pytest.fixture
def fakes():
    started = [
        FakeMember("gke").start(),
        FakeMember("gesis", "flapping").start(),
        FakeMember("ovh", "drifted").start(),
        FakeMember("2i2c", "down").start(),
    ]
    yield started
    for fake in started:
        fake.stop()


def register(fakes) -> list[Member]:
    return [Member(f.name, f"{f.name}.example.org", f.url, (), "", "USD") for f in fakes]


def settings(**env: str) -> FederationSettings:
    return read(FederationSettings, {**FAST, **env})


def test_one_lost_probe_opens_nothing_three_open_one_incident_two_good_close_it(fakes, warehouse):
    gke = fakes[0]
    members = register(fakes[:1])
    raiser = Recorded()
    pattern = ["healthy", "down", "healthy", "down", "down", "down", "down", "healthy", "healthy"]
    for n, mode in enumerate(pattern):
        gke.mode = mode
        result = rounds.run(T0 + timedelta(minutes=n), members, warehouse, settings(), raiser)
        again = rounds.run(T0 + timedelta(minutes=n), members, warehouse, settings(), raiser)
        assert again.repeated and again.rows == result.rows  # a redelivered tick: nothing new
    assert [i.incident_id for i in raiser.opened] == ["health-down-gke-20261206T0403"]
    [(closed, ended)] = raiser.closed
    assert closed.incident_id == "health-down-gke-20261206T0403"
    assert ended == T0 + timedelta(minutes=7)  # the first good probe of the two
    ups = [r["up"] for r in warehouse.query("SELECT up FROM member_health ORDER BY minute")]
    # Judged down from the third failed probe until the second good one.
    assert ups == [True, True, True, True, True, False, False, False, True]


def test_uptime_over_a_known_pattern_is_exact(fakes, warehouse, tmp_path):
    gke, gesis = fakes[0], fakes[1]
    gesis.mode = "healthy"
    members = register(fakes[:2])
    for n in range(20):
        gke.mode = "down" if 5 <= n < 12 else "healthy"  # 7 failed probes: down from the 3rd
        rounds.run(T0 + timedelta(minutes=n), members, warehouse, settings())
    shared = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(tmp_path / "public")})
    (tmp_path / "public" / "status").mkdir(parents=True)
    status.publish(warehouse, members, shared, T0 + timedelta(minutes=20))
    found = json.loads((tmp_path / "public" / "status" / "status.json").read_text())
    uptime = {m["name"]: m["uptime"] for m in found["members"]}
    # gke: down at minutes 7..12 (third failure to the probe before the second good one).
    assert uptime["gke"] == {p: round(14 / 20, 5) for p in ("24h", "7d", "30d", "90d")}
    assert uptime["gesis"]["90d"] == 1.0
    assert [m["state"] for m in found["members"]] == ["up", "up"]


def test_launch_outcomes_come_from_metrics_and_a_counter_reset_is_not_negative(fakes, warehouse):
    gke = fakes[0]
    members = register(fakes[:1])
    gke.launch("success", 10)
    rounds.run(T0, members, warehouse, settings())  # the first reading: no delta yet
    gke.launch("success", 5)
    gke.launch("failure", 2)
    gke.launch("retry", 4)  # retries are not outcomes
    rounds.run(T0 + timedelta(minutes=1), members, warehouse, settings())
    gke.restart()  # a restarted pod's counters start again from zero
    gke.launch("success", 3)
    rounds.run(T0 + timedelta(minutes=2), members, warehouse, settings())
    rows = warehouse.query("SELECT success, failure FROM member_launch_outcomes ORDER BY minute")
    assert [(r["success"], r["failure"]) for r in rows] == [(5, 2), (3, 0)]


def test_version_drift_is_flagged_and_opens_an_incident_after_30_minutes(fakes, warehouse):
    from binderops.metrics import Recorder
    from binderops.metrics.sinks import WarehouseSink

    members = register([fakes[0], fakes[2]])  # gke is the reference (the register's first)
    raiser = Recorded()
    gauges = Recorder(WarehouseSink(warehouse), interval=0)  # written after every round
    for n in range(32):
        rounds.run(T0 + timedelta(minutes=n), members, warehouse, settings(), raiser, gauges)
    written = warehouse.query(
        "SELECT value FROM raw.metrics WHERE metric = 'member_problem' "
        "AND labels LIKE '%drift%' AND labels LIKE '%ovh%' ORDER BY time"
    )
    # What Monitoring's alert policy reads: 1 once the drift has lasted 30 minutes.
    assert [int(r["value"]) for r in written][-3:] == [0, 1, 1]
    drift = warehouse.query(
        "SELECT member, COUNT(*) AS n FROM member_health WHERE drift GROUP BY member"
    )
    assert drift == [{"member": "ovh", "n": 32}]
    assert [i.incident_id for i in raiser.opened] == ["health-drift-ovh-20261206T0400"]
    fakes[2].mode = "healthy"
    rounds.run(T0 + timedelta(minutes=32), members, warehouse, settings(), raiser)
    assert [i.incident_id for i, _ in raiser.closed] == ["health-drift-ovh-20261206T0400"]


def test_low_launch_success_opens_and_closes_an_incident(fakes, warehouse):
    gke = fakes[0]
    members = register(fakes[:1])
    raiser = Recorded()
    rounds.run(T0, members, warehouse, settings(), raiser)
    gke.launch("success", 4)
    gke.launch("failure", 8)
    rounds.run(T0 + timedelta(minutes=1), members, warehouse, settings(), raiser)
    assert [i.incident_id for i in raiser.opened] == ["health-success-gke-20261206T0401"]
    gke.launch("success", 60)
    rounds.run(T0 + timedelta(minutes=2), members, warehouse, settings(), raiser)
    assert [i.incident_id for i, _ in raiser.closed] == ["health-success-gke-20261206T0401"]


def test_a_silent_member_fails_within_the_round_budget(fakes, warehouse):
    import time

    fakes[3].mode = "silent"
    members = register([fakes[0], fakes[3]])
    started = time.monotonic()
    result = rounds.run(T0, members, warehouse, settings())
    assert time.monotonic() - started < 4
    assert {r.member: r.ok for r in result.rows} == {"gke": True, "2i2c": False}


def test_the_status_page_feed_and_json_read_as_their_readers_read_them(
    fakes, warehouse, tmp_path, chromium
):
    import feedparser

    members = register(fakes)
    for n in range(4):
        rounds.run(T0 + timedelta(minutes=n), members, warehouse, settings())
    ended = T0 + timedelta(minutes=9)
    warehouse.insert(
        "incident_notifications",
        [
            _notification("health-down-2i2c-20261206T0400", "open", T0, None),
            _notification("health-down-gesis-20261206T0300", "open", T0 - timedelta(hours=1), None),
            _notification(
                "health-down-gesis-20261206T0300", "closed", T0 - timedelta(hours=1), ended
            ),
        ],
    )
    public = tmp_path / "public"
    (public / "status").mkdir(parents=True)
    shared = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(public)})
    status.publish(warehouse, members, shared, T0 + timedelta(minutes=4))
    feed = feedparser.parse((public / "status" / "incidents.atom").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert [e.id for e in feed.entries] == [
        "urn:binderops:incident:health-down-2i2c-20261206T0400",
        "urn:binderops:incident:health-down-gesis-20261206T0300",
    ]
    assert feed.entries[1].title.endswith("(resolved)")
    found = json.loads((public / "status" / "status.json").read_text())
    states = {m["name"]: (m["state"], m["version_drift"]) for m in found["members"]}
    assert states == {
        "gke": ("up", False),
        "gesis": ("up", False),
        "ovh": ("up", True),
        "2i2c": ("down", False),
    }
    page = (public / "status" / "index.html").read_bytes()
    assert len(page) < 150_000 and b"http://" not in page.replace(b"http://127.0.0.1", b"")

    handler = functools.partial(Quiet, directory=str(public))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page, errors = open_page(
            chromium, f"http://127.0.0.1:{server.server_port}/status/", ready=None
        )
        dom = page.content()
        page.context.close()
    finally:
        server.shutdown()
        server.server_close()
    assert not errors, errors
    assert "Binder federation status" in dom and "2i2c" in dom


def _notification(incident_id: str, state: str, started, ended):
    from binderops.incidents.notifier import IncidentRow

    return IncidentRow(
        notification_id=f"{incident_id}:{state}",
        incident_id=incident_id,
        state=state,
        policy="Federation member down",
        condition=f"down: {incident_id.split('-')[2]}",
        started=started,
        ended=ended,
        issue_url="https://github.com/example/incidents/issues/7",
        received_at=ended or started,
    )


def test_probe_members_through_functions_framework_is_one_round_per_tick(
    fakes, tmp_path, function_env
):
    """The entry point as Cloud Run runs it: a tick's publish time is its round; the same
    tick again stores nothing new; the status page is rewritten."""
    import base64

    from cloudevents.conversion import to_binary
    from cloudevents.http import CloudEvent
    from functions_framework import create_app

    csv = tmp_path / "members.csv"
    csv.write_text(
        "name,origin,url,projects,invoice,currency\n"
        + "".join(f"{f.name},{f.name}.example.org,{f.url},,,USD\n" for f in fakes)
    )
    public = tmp_path / "public"
    function_env(
        BINDEROPS_MEMBERS=str(csv),
        BINDEROPS_WAREHOUSE=f"duckdb://{tmp_path / 'w.duckdb'}",
        BINDEROPS_PUBLIC_DIR=str(public),
        BINDEROPS_METRICS="off",
        **FAST,
    )
    client = create_app("probe_members", MAIN, "cloudevent").test_client()
    for _ in range(2):
        message = {"data": base64.b64encode(b"{}").decode(), "publishTime": "2026-12-06T04:00:31Z"}
        event = CloudEvent(
            {"id": "7", "type": "google.cloud.pubsub.topic.v1.messagePublished", "source": "//p"},
            {"message": message},
        )
        headers, body = to_binary(event)
        assert client.post("/", headers=headers, data=body).status_code == 200
    from binderops import instance

    rows = instance.warehouse().query("SELECT minute, member FROM member_health ORDER BY member")
    assert [r["member"] for r in rows] == ["2i2c", "gesis", "gke", "ovh"]
    assert {r["minute"] for r in rows} == {T0}
    assert (public / "status" / "index.html").exists()


def test_the_dashboard_draws_launch_success_from_the_members_metrics(fakes, warehouse):
    from binderops import dashboard
    from binderops.costs.export import MemberRow

    gke = fakes[0]
    members = register(fakes[:1])
    warehouse.load(
        "federation_members",
        [
            MemberRow("gke", "gke.example.org", gke.url, "", "", "USD", T0),
            MemberRow("gesis", "gesis.example.org", "https://x.example.org", "", "", "EUR", T0),
        ],
    )
    rounds.run(T0, members, warehouse, settings())
    gke.launch("success", 9)
    gke.launch("failure", 1)
    rounds.run(T0 + timedelta(minutes=1), members, warehouse, settings())
    html = dashboard.build(warehouse, T0.date() + timedelta(days=1), "USD").decode()
    section = html[html.index("id='success'") :]
    assert "<td>gke</td><td>9</td><td>1</td><td>90.0%</td>" in section
    assert "Not measured (no /metrics reachable): gesis." in section


def test_the_uptime_badge_answers_from_the_public_view(fakes, warehouse):
    from binderops.federation import badge

    members = register(fakes[:1])
    for n in range(10):
        fakes[0].mode = "down" if 2 <= n < 7 else "healthy"
        rounds.run(T0 + timedelta(minutes=n), members, warehouse, settings())
    uptimes = badge.Uptimes(warehouse)
    now = T0 + timedelta(minutes=10)
    drawn = badge.answer({"member": "gke", "metric": "uptime", "period": "30d"}, uptimes, now)
    # Down from the third of five failures (minute 4) to the second good probe (minute 8).
    assert drawn.status == 200 and b">60.00%<" in drawn.svg
    assert drawn.headers["X-Content-Type-Options"] == "nosniff"
    unknown = badge.answer({"member": "nobody"}, uptimes, now)
    assert unknown.status == 200 and b">unknown<" in unknown.svg
    bad = badge.answer({"member": "gke", "period": "1y"}, uptimes, now)
    assert bad.status == 400 and b"period must be" in bad.svg
