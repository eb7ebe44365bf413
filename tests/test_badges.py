"""``usage_badge`` as functions-framework serves it, over a published local warehouse."""

from __future__ import annotations

import itertools
import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import pytest
from fakes.bigquery import FakeBigQuery
from fakes.http import RecordingServer
from functions_framework import create_app

from binderops.core.errors import Retry
from binderops.launches import badges
from binderops.launches.events import LaunchRow
from binderops.warehouse.base import WarehouseUnavailable

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.now(UTC).date()


IDS = itertools.count()


def row(day: date, repo: str, provider: str = "GitHub") -> LaunchRow:
    when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    spec = f"{repo}/HEAD"
    event_id = f"b-{next(IDS)}"
    return LaunchRow(
        event_id, when, 6, provider, spec, repo, "HEAD", "", "success", "gke", False, "", when
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> str:
    """Launches of a few repositories over the last 400 days, published, so the aggregate
    holds them; returns the warehouse's URL."""
    from binderops.core.config import Settings, read
    from binderops.launches import archive
    from binderops.warehouse import open_warehouse

    folder = tmp_path_factory.mktemp("badges")
    warehouse = open_warehouse(f"duckdb://{folder / 'w.duckdb'}")
    warehouse.setup()

    def ago(days: int) -> date:
        return TODAY - timedelta(days=days)

    # Owner/Repo: 1 launch a day for 400 days (case differs from what badges ask for).
    rows = [row(ago(back), "Owner/Repo") for back in range(1, 401)]
    # busy/one: 13,000 launches yesterday, 2 launches 20 days ago.
    rows += [row(ago(1), "busy/one") for _ in range(13_000)]
    rows += [row(ago(20), "busy/one") for _ in range(2)]
    rows.append(row(ago(3), "10.5281/zenodo.123", "Zenodo"))
    # Today's launches are not in a complete day yet: the badge does not count them.
    rows.append(row(TODAY, "busy/one"))
    warehouse.load("launches", rows)
    archive.publish(warehouse, read(Settings, {"BINDEROPS_STATE_DIR": str(folder)}), {}, TODAY)
    warehouse.close()
    return warehouse.url


@pytest.fixture
def client(published, function_env):
    function_env(BINDEROPS_WAREHOUSE=published)
    app = create_app("usage_badge", str(ROOT / "functions/main.py"), "http")
    return app.test_client()


def text_of(response) -> list[str]:
    svg = ElementTree.fromstring(response.data)
    return [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize(
    ("query", "value"),
    [
        ("repo=owner/repo", "30"),
        ("repo=Owner/Repo&period=7d", "7"),
        ("repo=owner/repo&period=1y", "365"),
        ("repo=owner/repo&period=all", "400"),
        ("repo=busy/one", "13k"),
        ("repo=busy/one&period=7d", "13k"),
        ("repo=busy/one&period=all", "13k"),
        ("repo=10.5281/zenodo.123&provider=zenodo", "1"),
    ],
)
def test_counts_over_each_period(client, query, value):
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert text_of(response) == ["launches", value]
    assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert badges.BLUE.encode() in response.data


def test_the_title_gives_the_exact_count(client):
    response = client.get("/?repo=busy/one&period=30d")
    assert b"<title>launches: 13002 over the last 30d</title>" in response.data


def test_an_unknown_repository_gets_a_grey_badge(client):
    response = client.get("/?repo=nobody/nothing")
    assert response.status_code == 200
    assert text_of(response) == ["launches", "unknown"]
    assert badges.GREY.encode() in response.data
    assert response.headers["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "repo=",
        "repo=not-a-github-repo",
        "repo=owner/repo&period=2w",
        "repo=owner/repo&provider=svn",
        "repo=owner/repo&colour=red",
        "repo=" + "a" * 400,
        "repo=a%00b&provider=git",
        "repo=<script>/x",
    ],
)
def test_a_bad_parameter_gets_a_readable_400_badge(client, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert text_of(response) == ["launches", "bad request"]
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert b"<script>" not in response.data
    title = re.search(rb"<title>(.*)</title>", response.data).group(1)
    assert title.startswith(b"launches: ")


def test_other_methods_are_refused(client):
    assert client.post("/?repo=owner/repo").status_code == 405


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1k"),
        (12_345, "12.3k"),
        (123_456, "123k"),
        (2_500_000, "2.5M"),
    ],
)
def test_counts_are_shortened_as_badges_show_them(count, shown):
    assert badges.short(count) == shown


class Recording:
    """A warehouse that counts its queries and can be made to fail or to wait: it hands
    each query to the real one."""

    def __init__(self, warehouse) -> None:
        self.warehouse = warehouse
        self.queries = 0
        self.failing = False
        self.started = threading.Event()
        self.go_on = threading.Event()
        self.go_on.set()

    def modified(self, table):
        return self.warehouse.modified(table)

    def query(self, text, params=None):
        self.queries += 1
        self.started.set()
        self.go_on.wait(10)
        if self.failing:
            raise WarehouseUnavailable("the warehouse is down")
        return self.warehouse.query(text, params)


@pytest.fixture
def recording(published):
    from binderops.warehouse import open_warehouse

    warehouse = open_warehouse(published)
    yield Recording(warehouse)
    warehouse.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ask(counts: badges.Counts, query: str, today: date = TODAY) -> int | None:
    return counts.launches(badges.parse(dict(p.split("=") for p in query.split("&"))), today)


def test_counts_are_loaded_once_then_again_after_an_hour_or_a_new_day(recording):
    clock = Clock()
    counts = badges.Counts(recording, max_age=3600, clock=clock)
    assert ask(counts, "repo=owner/repo") == 30
    assert ask(counts, "repo=busy/one&period=7d") == 13_000
    assert ask(counts, "repo=nobody/nothing") is None
    assert recording.queries == 1
    clock.now += 3599
    assert ask(counts, "repo=owner/repo&period=all") == 400
    assert recording.queries == 1
    clock.now += 1
    assert ask(counts, "repo=owner/repo&period=all") == 400
    assert recording.queries == 2
    # The next day, the last 30 days are one day shorter: no launch was published for today.
    assert ask(counts, "repo=owner/repo", TODAY + timedelta(days=1)) == 29
    assert recording.queries == 3


def test_a_publish_run_shows_once_the_counts_are_reloaded(tmp_path):
    from binderops.core.config import Settings, read
    from binderops.launches import archive
    from binderops.warehouse import open_warehouse

    warehouse = open_warehouse(f"duckdb://{tmp_path / 'w.duckdb'}")
    warehouse.setup()
    settings = read(Settings, {"BINDEROPS_STATE_DIR": str(tmp_path)})
    yesterday = TODAY - timedelta(days=1)
    warehouse.load("launches", [row(yesterday, "late/one")])
    archive.publish(warehouse, settings, {}, TODAY)
    clock = Clock()
    counts = badges.Counts(warehouse, max_age=3600, clock=clock)
    assert ask(counts, "repo=late/one") == 1
    warehouse.load("launches", [row(yesterday, "late/one"), row(yesterday, "late/two")])
    archive.publish(warehouse, settings, {}, TODAY)
    assert (ask(counts, "repo=late/one"), ask(counts, "repo=late/two")) == (1, None)
    clock.now += 3600
    assert (ask(counts, "repo=late/one"), ask(counts, "repo=late/two")) == (2, 1)
    warehouse.close()


def test_without_counts_a_failed_load_asks_for_a_retry(recording, function_env):
    recording.failing = True
    with pytest.raises(Retry):
        ask(badges.Counts(recording), "repo=owner/repo")


def test_a_failed_reload_answers_the_older_counts_and_tries_again_a_minute_later(recording, caplog):
    clock = Clock()
    counts = badges.Counts(recording, max_age=3600, clock=clock)
    assert ask(counts, "repo=owner/repo") == 30
    recording.failing = True
    clock.now += 3600
    assert ask(counts, "repo=owner/repo") == 30
    assert "answering older counts" in caplog.text
    assert "the warehouse is down" in caplog.text
    assert recording.queries == 2
    clock.now += badges.RETRY_SECONDS - 1
    assert ask(counts, "repo=owner/repo") == 30
    assert recording.queries == 2  # not a query per badge while the warehouse is down
    clock.now += 1
    recording.failing = False
    assert ask(counts, "repo=owner/repo&period=7d") == 7
    assert recording.queries == 3


def test_while_one_request_reloads_the_others_answer_at_once(recording):
    clock = Clock()
    counts = badges.Counts(recording, max_age=3600, clock=clock)
    assert ask(counts, "repo=owner/repo") == 30
    clock.now += 3600
    recording.started.clear()
    recording.go_on.clear()
    reloading = threading.Thread(target=ask, args=(counts, "repo=owner/repo"))
    reloading.start()
    try:
        assert recording.started.wait(10)
        assert ask(counts, "repo=busy/one") == 13_002  # the older counts, without waiting
        assert reloading.is_alive()
        assert recording.queries == 2
    finally:
        recording.go_on.set()
        reloading.join(10)
    assert not reloading.is_alive()
    assert ask(counts, "repo=busy/one") == 13_002
    assert recording.queries == 2


AGGREGATE = "binder-project.binder.repo_launches_daily"


def bigquery_answering(*counts: list[str]) -> FakeBigQuery:
    """A fake BigQuery whose repo_launches_daily has metadata, and whose next queries answer
    ``counts``, one row of provider, repo and each period's count per query."""
    bigquery = FakeBigQuery()
    project, dataset, table = AGGREGATE.split(".")
    bigquery.made_by_setup(project, dataset)
    bigquery.tables[AGGREGATE] = {
        "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
        "lastModifiedTime": "1764400000000",
    }
    fields = [{"name": "provider", "type": "STRING"}, {"name": "repo", "type": "STRING"}]
    fields += [{"name": f"launches_{p}", "type": "INTEGER"} for p in badges.PERIODS]
    bigquery.answers = [(fields, [row]) for row in counts]
    return bigquery


def test_an_instance_queries_bigquery_once_for_its_badges(function_env):
    """Through the real BigQuery client, against a loopback fake: one query for every
    repository's counts (badge_counts.sql, today as a DATE), then badges from memory."""
    from binderops.warehouse import schemas

    bigquery = bigquery_answering(["GitHub", "owner/repo", "3", "12", "300", "12345"])
    with RecordingServer(bigquery) as server:
        function_env(
            BINDEROPS_WAREHOUSE="bigquery://binder-project/binder",
            BINDEROPS_BIGQUERY_API_URL=server.url,
        )
        client = create_app("usage_badge", str(ROOT / "functions/main.py"), "http").test_client()
        assert text_of(client.get("/?repo=Owner/Repo&period=all")) == ["launches", "12.3k"]
        assert text_of(client.get("/?repo=owner/repo&period=7d")) == ["launches", "3"]
        assert text_of(client.get("/?repo=owner/other")) == ["launches", "unknown"]
    assert bigquery.metadata_reads == [AGGREGATE]
    (sent,) = bigquery.queries
    assert sent["query"] == schemas.sql("badge_counts")
    assert sent["useLegacySql"] is False
    assert sent["defaultDataset"] == {"projectId": "binder-project", "datasetId": "binder"}
    assert sent["queryParameters"] == [
        {
            "name": "today",
            "parameterType": {"type": "DATE"},
            "parameterValue": {"value": datetime.now(UTC).date().isoformat()},
        }
    ]


def test_on_bigquery_counts_are_loaded_again_only_once_the_aggregate_or_the_day_changed():
    """BigQuery's table metadata says when repo_launches_daily last changed: reading it is
    free, a load scans the whole table. Through the real client, against a loopback fake."""
    from binderops.warehouse import open_warehouse

    bigquery = bigquery_answering(
        ["GitHub", "owner/repo", "3", "12", "300", "12345"],
        ["GitHub", "owner/repo", "4", "13", "301", "12346"],
        ["GitHub", "owner/repo", "2", "13", "301", "12346"],
    )
    clock = Clock()
    with RecordingServer(bigquery) as server:
        warehouse = open_warehouse("bigquery://binder-project/binder", server.url)
        counts = badges.Counts(warehouse, max_age=3600, clock=clock)
        assert ask(counts, "repo=owner/repo&period=7d") == 3
        clock.now += 3600  # an hour on, the aggregate is as it was: no query
        assert ask(counts, "repo=owner/repo&period=7d") == 3
        assert (len(bigquery.metadata_reads), len(bigquery.queries)) == (2, 1)
        clock.now += 1800  # half an hour on: not even the metadata
        assert ask(counts, "repo=owner/repo&period=7d") == 3
        assert len(bigquery.metadata_reads) == 2
        bigquery.tables[AGGREGATE]["lastModifiedTime"] = "1764405000000"  # a publish run
        clock.now += 1800
        assert ask(counts, "repo=owner/repo&period=7d") == 4
        assert (len(bigquery.metadata_reads), len(bigquery.queries)) == (3, 2)
        # A new day moves every period: loaded again, though the table did not change.
        assert ask(counts, "repo=owner/repo&period=7d", TODAY + timedelta(days=1)) == 2
        assert (len(bigquery.metadata_reads), len(bigquery.queries)) == (4, 3)
        warehouse.close()
    assert set(bigquery.metadata_reads) == {AGGREGATE}
    assert [q["queryParameters"][0]["parameterValue"]["value"] for q in bigquery.queries] == [
        TODAY.isoformat(),
        TODAY.isoformat(),
        (TODAY + timedelta(days=1)).isoformat(),
    ]


def test_the_counts_query_has_a_column_per_period_in_order():
    from binderops.warehouse import schemas
    from binderops.warehouse.duckdb import translate

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE repo_launches_daily (day DATE, provider TEXT, repo TEXT, launches BIGINT)"
    )
    names = [
        d[0]
        for d in con.execute(translate(schemas.sql("badge_counts")), {"today": TODAY}).description
    ]
    assert names == ["provider", "repo"] + [f"launches_{p}" for p in badges.PERIODS]


@pytest.mark.parametrize(
    "path", ["/admin", "/index.html", "/.env", "/?repo=owner/repo/../x", "/badge", "/%2e%2e/"]
)
def test_the_badge_answers_only_on_its_own_path(client, path):
    response = client.get(path)
    if path.startswith("/?"):  # the badge's own path with an odd query: a 400 badge
        assert response.status_code == 400
    else:
        assert response.status_code == 404
        assert b"<svg" not in response.data
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("query", ["repo=owner/repo", "repo=nobody/nothing", "repo=%3Cscript%3E"])
def test_every_badge_forbids_sniffing_and_lets_nothing_run(client, query):
    response = client.get(f"/?{query}")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script" not in policy and "unsafe" not in policy
    assert client.post("/?repo=owner/repo").headers["X-Content-Type-Options"] == "nosniff"
