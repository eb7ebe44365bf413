"""``usage_badge`` as functions-framework serves it, over a published local warehouse."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from functions_framework import create_app

from binderops.launches import badges
from binderops.launches.events import LaunchRow

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
    from binderops.config import Settings, read
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


def test_a_badge_reads_its_repository_through_the_index(published):
    """The lookup filters on repo alone, so DuckDB answers it from its index on repo rather
    than scanning the daily aggregate."""
    from binderops.warehouse import open_warehouse, schemas
    from binderops.warehouse.duckdb import translate

    warehouse = open_warehouse(published)
    with warehouse.session() as con:
        plan = con.execute(
            "EXPLAIN ANALYZE " + translate(schemas.sql("badge")),
            {"repo": "owner/repo"},
        ).fetchall()[0][1]
    warehouse.close()
    assert "Type: Index Scan" in plan
    assert "repo_launches_daily" in plan
