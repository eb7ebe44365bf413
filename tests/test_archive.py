"""The public launch archive: day files, index, monthly Parquet, through DuckDB, a Cloud
Storage bucket and BigQuery (the last two over HTTP to loopback fakes)."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from fakes.bigquery import FakeBigQuery
from fakes.http import RecordingServer
from fakes.storage import FakeStorage

from binderops.core.config import Settings, read
from binderops.launches import archive
from binderops.launches.backfill import backfill
from binderops.launches.events import LaunchRow, to_row
from binderops.local.samples import launch_event
from binderops.warehouse import open_warehouse

TODAY = date(2026, 3, 10)
COLUMNS = (
    "timestamp, schema_version, provider, spec, repo, ref, resolved_ref, status, origin, "
    "build_token, request_origin"
)


def launches(days: int = 3, per_day: int = 40, seed: int = 3) -> list[LaunchRow]:
    """Launches of every schema version over ``days`` days from 2026-03-01, some with
    fields the schema allows to be missing, some with text that needs escaping."""
    rng = random.Random(seed)
    ingested = datetime(2026, 3, 9, tzinfo=UTC)
    rows = []
    for day in range(days):
        for n in range(per_day):
            when = datetime(2026, 3, 1 + day, tzinfo=UTC) + timedelta(seconds=rng.randrange(86400))
            event = launch_event(rng, when, version=1 + n % 6)
            if n % 7 == 0:
                event.pop("provider", None)
                event.pop("status", None)
            if n % 11 == 0:
                event["spec"] = 'owner/r\u00e9po-"quoted"\\/HEAD'
            rows.append(to_row(event, f"e-{day}-{n}", ingested, "default.mybinder.org"))
    return rows


def settings_for(tmp_path: Path, **env: str) -> Settings:
    return read(Settings, {"BINDEROPS_STATE_DIR": str(tmp_path / "state"), **env})


def stored(warehouse) -> list[tuple]:
    rows = warehouse.query(f"SELECT {COLUMNS} FROM launches")
    return sorted((tuple(r.values()) for r in rows), key=repr)


def test_published_days_read_back_by_backfill_give_the_same_rows(tmp_path, warehouse):
    warehouse.load("launches", launches())
    settings = settings_for(tmp_path)
    result = archive.publish(warehouse, settings, {}, TODAY)
    assert result.written == [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]
    public = settings.public_dir
    files = sorted(public.glob("events-*.jsonl"))
    assert [f.name for f in files] == [archive.day_name(d) for d in result.written]

    first = files[0].read_text().splitlines()
    assert len(first) == 40
    stamps = [json.loads(line)["timestamp"] for line in first]
    assert stamps == sorted(stamps)
    assert all(s.endswith(":00+00:00") and len(s) == 25 for s in stamps)
    for line in first:
        event = json.loads(line)
        assert list(event)[:3] == ["timestamp", "schema", "version"]
        assert None not in event.values()
        assert ("origin" in event) == (event["version"] >= 3)
        assert ("request_origin" in event) == (event["version"] >= 6)

    fresh = open_warehouse(f"duckdb://{tmp_path / 'fresh.duckdb'}")
    fresh.setup()
    loaded = backfill(files, fresh, "default.mybinder.org")
    assert (loaded.loaded, loaded.rejected) == (120, 0)
    assert stored(fresh) == stored(warehouse)
    fresh.close()


def test_index_parquet_and_html_describe_the_days(tmp_path, warehouse):
    warehouse.load("launches", launches())
    settings = settings_for(tmp_path)
    archive.publish(warehouse, settings, {}, TODAY)
    public = settings.public_dir
    index = [json.loads(line) for line in (public / "index.jsonl").read_text().splitlines()]
    assert [(e["name"], e["date"], e["count"]) for e in index] == [
        ("events-2026-03-01.jsonl", "2026-03-01", 40),
        ("events-2026-03-02.jsonl", "2026-03-02", 40),
        ("events-2026-03-03.jsonl", "2026-03-03", 40),
    ]
    assert [e["size"] for e in index] == [(public / e["name"]).stat().st_size for e in index]
    parquet = public / "launches-2026-03.parquet"
    read_back = duckdb.sql(
        f"SELECT CAST(timestamp AS DATE) AS day, count(*) FROM '{parquet}' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert read_back == [(date(2026, 3, d), 40) for d in (1, 2, 3)]
    types = dict(
        duckdb.sql(f"DESCRIBE SELECT * FROM '{parquet}'").fetchall()[i][:2] for i in range(12)
    )
    assert types["timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert types["build_token"] == "BOOLEAN" and types["version"] == "BIGINT"
    assert "event_id" not in types and "ingested_at" not in types
    # A row group per day, whose timestamp range lets a reader skip the days it does not want.
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(parquet).metadata
    ranges = [metadata.row_group(g).column(0).statistics for g in range(metadata.num_row_groups)]
    assert [(r.min.date(), r.max.date()) for r in ranges] == [
        (date(2026, 3, d),) * 2 for d in (1, 2, 3)
    ]

    page = (public / "index.html").read_text()
    positions = [page.index(f">events-2026-03-0{d}.jsonl<") for d in (3, 2, 1)]
    assert positions == sorted(positions)  # newest first
    assert "launches-2026-03.parquet" in page and ">120<" in page
    size = (public / "events-2026-03-02.jsonl").stat().st_size
    assert f"{size / 1000:.1f} KB" in page


def test_only_changed_days_are_rewritten_and_reruns_are_byte_identical(tmp_path, warehouse):
    warehouse.load("launches", launches())
    settings = settings_for(tmp_path)
    archive.publish(warehouse, settings, {}, TODAY)
    public = settings.public_dir

    def snapshot():
        return {p.name: (p.stat().st_ino, p.read_bytes()) for p in public.iterdir()}

    before = snapshot()
    again = archive.publish(warehouse, settings, {}, TODAY)
    assert (again.written, again.months, again.unchanged) == ([], [], 3)
    after = snapshot()
    rewritten = {n for n in after if after[n][0] != before[n][0]}
    assert rewritten == {"index.jsonl", "index.html"}
    assert {n: v[1] for n, v in after.items()} == {n: v[1] for n, v in before.items()}

    late = to_row(
        launch_event(random.Random(9), datetime(2026, 3, 2, 23, 59, tzinfo=UTC)),
        "late-1",
        datetime(2026, 3, 9, 12, tzinfo=UTC),
        "default.mybinder.org",
    )
    warehouse.load("launches", [late])
    result = archive.publish(warehouse, settings, {}, TODAY)
    assert (result.written, result.months) == ([date(2026, 3, 2)], ["2026-03"])
    changed = snapshot()
    rewritten = {n for n in changed if changed[n][1] != after[n][1]}
    assert rewritten == {
        "events-2026-03-02.jsonl",
        "index.jsonl",
        "index.html",
        "months.jsonl",
        "launches-2026-03.parquet",
    }
    assert (
        changed["events-2026-03-02.jsonl"][1]
        .splitlines()[-1]
        .startswith(b'{"timestamp": "2026-03-02T23:59:00+00:00"')
    )

    forced = archive.publish(
        warehouse, settings, {"start": "2026-03-01", "end": "2026-03-03"}, TODAY
    )
    assert forced.written == [date(2026, 3, d) for d in (1, 2, 3)]
    assert {n: v[1] for n, v in snapshot().items()} == {n: v[1] for n, v in changed.items()}


def test_day_files_lost_after_the_index_was_written_are_written_again(tmp_path, warehouse, caplog):
    """The index is fsynced, the day files are not: a crash soon after a run can leave an
    index listing a file that is empty, short or missing. The next run writes such days
    again, though their launches did not change."""
    warehouse.load("launches", launches())
    settings = settings_for(tmp_path)
    archive.publish(warehouse, settings, {}, TODAY)
    public = settings.public_dir
    published = {p.name: p.read_bytes() for p in public.iterdir()}
    (public / "events-2026-03-01.jsonl").write_bytes(b"")
    (public / "events-2026-03-02.jsonl").unlink()
    short = published["events-2026-03-03.jsonl"][:-1]
    (public / "events-2026-03-03.jsonl").write_bytes(short)
    result = archive.publish(warehouse, settings, {}, TODAY)
    assert result.written == [date(2026, 3, d) for d in (1, 2, 3)]
    assert {p.name: p.read_bytes() for p in public.iterdir()} == published
    assert "written again: events-2026-03-01.jsonl, events-2026-03-02.jsonl, " in caplog.text
    again = archive.publish(warehouse, settings, {}, TODAY)
    assert (again.written, again.unchanged) == ([], 3)


def test_a_busy_day_comes_out_in_timestamp_then_event_id_order(tmp_path, warehouse):
    """lines.sql sorts a day's launches before building their lines, and the DuckDB day
    query relies on DuckDB keeping that order through the SELECTs above the sort: checked
    over a day of many Arrow batches, loaded shuffled, most launches sharing their
    timestamp with hundreds of others so that event_id decides."""
    rng = random.Random(5)
    ingested = datetime(2026, 3, 9, tzinfo=UTC)
    rows = []
    for _ in range(30_000):
        event_id = f"{rng.getrandbits(64):016x}"
        when = datetime(2026, 3, 4, tzinfo=UTC) + timedelta(seconds=rng.randrange(40) * 1000)
        spec = f"owner/{event_id}/HEAD"  # the line shows which launch it is
        rows.append(
            LaunchRow(event_id, when, 6, "GitHub", spec, f"owner/{event_id}", "HEAD", "abc",
                      "success", "gke.mybinder.org", False, "same-origin", ingested)
        )  # fmt: skip
    warehouse.load("launches", rows)
    settings = settings_for(tmp_path)
    archive.publish(warehouse, settings, {}, TODAY)

    expected = [row.spec for row in sorted(rows, key=lambda row: (row.timestamp, row.event_id))]
    day_file = settings.public_dir / "events-2026-03-04.jsonl"
    assert [json.loads(line)["spec"] for line in day_file.read_text().splitlines()] == expected
    month = settings.public_dir / "launches-2026-03.parquet"
    assert [s for (s,) in duckdb.sql(f"SELECT spec FROM '{month}'").fetchall()] == expected


def test_badge_counts_follow_the_published_days(tmp_path, warehouse):
    warehouse.load("launches", launches())
    settings = settings_for(tmp_path)
    archive.publish(warehouse, settings, {}, TODAY)
    expected = warehouse.query(
        "SELECT DATE(timestamp) AS day, provider, LOWER(repo) AS repo, COUNT(*) AS launches "
        "FROM launches GROUP BY 1, 2, 3"
    )
    got = warehouse.query("SELECT day, provider, repo, launches FROM repo_launches_daily")
    assert sorted(map(repr, got)) == sorted(map(repr, expected))


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        ({"start": "2026-3-1"}, "start must be a date"),
        ({"end": "2026-03-10"}, "not a complete day yet"),
        ({"start": "2026-03-05", "end": "2026-03-04"}, "is after end"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(tmp_path, warehouse, request_, problem):
    with pytest.raises(archive.PublishRequestError, match=problem):
        archive.publish(warehouse, settings_for(tmp_path), request_, TODAY)


def test_cloud_storage_objects_carry_names_types_metadata_and_cache_control(tmp_path, warehouse):
    warehouse.load("launches", launches(days=2))
    fake = FakeStorage()
    with RecordingServer(fake) as server:
        env = {"BINDEROPS_PUBLIC_BUCKET": "binder-archive", "BINDEROPS_STORAGE_API_URL": server.url}
        settings = settings_for(tmp_path, **env)
        archive.publish(warehouse, settings, {}, TODAY)
        objects = dict(fake.objects)
        assert sorted(objects) == [
            "binder-archive/events-2026-03-01.jsonl",
            "binder-archive/events-2026-03-02.jsonl",
            "binder-archive/index.html",
            "binder-archive/index.jsonl",
            "binder-archive/launches-2026-03.parquet",
            "binder-archive/months.jsonl",
        ]
        day = objects["binder-archive/events-2026-03-02.jsonl"]
        assert day["content_type"] == "application/x-ndjson"
        assert day["metadata"]["metadata"] == {"Events-Date": "2026-03-02", "Events-Count": "40"}
        assert day["metadata"]["cacheControl"] == "public, max-age=300"
        assert len(day["data"].splitlines()) == 40
        assert objects["binder-archive/launches-2026-03.parquet"]["content_type"] == (
            "application/vnd.apache.parquet"
        )
        assert objects["binder-archive/index.html"]["content_type"] == "text/html"
        assert all("authorization" not in r.headers for r in server.requests)
        # The next run reads the index back from the bucket and rewrites no day.
        server.requests.clear()
        again = archive.publish(warehouse, settings, {}, TODAY)
    assert again.written == []
    uploads = [r for r in server.requests if r.method == "POST"]
    assert len(uploads) == 2  # index.jsonl and index.html
    assert not (tmp_path / "state" / "public").exists()
    assert list((tmp_path / "state" / "publishing").iterdir()) == []


def publish_from_bigquery(tmp_path, bigquery, storage) -> archive.PublishResult:
    """A publish run through the real BigQuery and Cloud Storage clients, against fakes."""
    bigquery.made_by_setup("binder-project", "binder")
    with RecordingServer(bigquery) as bq, RecordingServer(storage) as gcs:
        warehouse = open_warehouse("bigquery://binder-project/binder", bq.url)
        settings = settings_for(
            tmp_path,
            BINDEROPS_PUBLIC_BUCKET="binder-archive",
            BINDEROPS_STORAGE_API_URL=gcs.url,
        )
        return archive.publish(warehouse, settings, {}, TODAY)


def test_bigquery_builds_the_days_and_exports_the_months_itself(tmp_path):
    bigquery, storage = FakeBigQuery(), FakeStorage()
    day = {"name": "day", "type": "DATE"}
    events = {"name": "events", "type": "INTEGER"}
    content = (
        '{"timestamp": "2026-03-02T10:00:00+00:00", "schema": "binderhub.jupyter.org/launch", '
        '"version": 6}\n'
    )
    bigquery.answers = [
        ([day, events], [["2026-03-02", "2"]]),  # rows, one of them a duplicate
        # A new day is written at once: its file's query counts its distinct launches.
        ([day, events, {"name": "content", "type": "STRING"}], [["2026-03-02", "1", content]]),
    ]
    # What BigQuery's EXPORT DATA leaves in the bucket, for the run to move into place.
    storage.put(
        "binder-archive", ".staging/launches-2026-03.parquet/part-000000000000.parquet", b"PAR1"
    )
    result = publish_from_bigquery(tmp_path, bigquery, storage)
    assert result.written == [date(2026, 3, 2)]
    sent = [q["query"] for q in bigquery.queries]
    rows, badges, lines = sent[:3]  # the badges' rows are replaced before the days are read
    assert "repo_launches_daily" in badges
    raw = "`binder-project`.`binder_raw`.launches"
    assert f"FROM {raw}" in rows and "COUNT(*)" in rows
    assert "STRING_AGG(line, '' ORDER BY timestamp, event_id)" in lines
    assert "FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:00+00:00', timestamp, 'UTC')" in lines
    assert "WHERE timestamp >= TIMESTAMP(@first)" in lines  # partition pruning
    parameters = {
        p["name"]: p["parameterValue"]["value"] for p in bigquery.queries[2]["queryParameters"]
    }
    assert parameters == {"first": "2026-03-02", "last": "2026-03-02"}
    scripts = [q for q in sent if "BEGIN TRANSACTION" in q]
    assert len(scripts) == 1
    assert "DELETE FROM `binder-project.binder.repo_launches_daily` WHERE day BETWEEN" in scripts[0]
    assert (
        "INSERT INTO `binder-project.binder.repo_launches_daily` (day, provider, repo, launches)"
        in scripts[0]
    )
    [export] = [q for q in sent if "EXPORT DATA" in q]
    assert export.startswith(
        "EXPORT DATA OPTIONS (uri='gs://binder-archive/.staging/launches-2026-03.parquet/"
        "part-*.parquet', format='PARQUET', overwrite=true, compression='ZSTD') AS\n"
    )
    assert "ORDER BY timestamp" in export
    objects = storage.objects
    assert objects["binder-archive/events-2026-03-02.jsonl"]["data"] == content.encode()
    assert objects["binder-archive/events-2026-03-02.jsonl"]["metadata"]["metadata"] == {
        "Events-Date": "2026-03-02",
        "Events-Count": "1",
    }
    moved = objects["binder-archive/launches-2026-03.parquet"]
    assert moved["data"] == b"PAR1"
    assert moved["content_type"] == "application/vnd.apache.parquet"
    assert moved["metadata"]["cacheControl"] == "public, max-age=300"
    assert storage.deleted == [
        "binder-archive/.staging/launches-2026-03.parquet/part-000000000000.parquet"
    ]

    # The next run sees two rows for a day published with one launch: it counts the day's
    # distinct launches, finds the one published, and rewrites nothing.
    bigquery.queries.clear()
    bigquery.answers = [
        ([day, events], [["2026-03-02", "2"]]),
        ([day, events], [["2026-03-02", "1"]]),
    ]
    again = publish_from_bigquery(tmp_path, bigquery, storage)
    assert again.written == [] and again.unchanged == 1
    rows, counts = [q["query"] for q in bigquery.queries]
    assert f"FROM {raw}" in counts and "COUNT(DISTINCT event_id)" in counts


def test_bigquery_without_a_bucket_is_a_configuration_error(tmp_path):
    from binderops.core.errors import ConfigError

    warehouse = open_warehouse("bigquery://p/d", "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="BINDEROPS_PUBLIC_BUCKET"):
        archive.publish(warehouse, settings_for(tmp_path), {}, TODAY)


def test_a_month_is_put_together_again_when_its_days_parts_are_gone(tmp_path, warehouse):
    """The local run keeps each day as a sorted Parquet part; without them (a new state
    folder) the month is rebuilt from the warehouse, to the same bytes."""
    import shutil

    warehouse.load("launches", launches())
    settings = settings_for(tmp_path)
    archive.publish(warehouse, settings, {}, TODAY)
    month = settings.public_dir / "launches-2026-03.parquet"
    before = month.read_bytes()
    shutil.rmtree(tmp_path / "state" / "archive-parts")
    result = archive.publish(
        warehouse, settings, {"start": "2026-03-02", "end": "2026-03-02"}, TODAY
    )
    assert result.months == ["2026-03"]
    assert month.read_bytes() == before
    parts = sorted(p.name for p in (tmp_path / "state" / "archive-parts").iterdir())
    assert parts == [f"launches-2026-03-0{d}.parquet" for d in (1, 2, 3)]


def test_the_day_files_and_the_month_agree_field_by_field_and_can_be_verified(tmp_path, warehouse):
    """Every launch: its day-file line and its Parquet row carry the same fields with the same
    values (a field the line leaves out is NULL); every file's SHA-256 in the indexes is its
    own; index.html carries a schema.org Dataset naming every file."""
    import hashlib

    import pyarrow.parquet as pq

    warehouse.load("launches", launches())
    settings = settings_for(tmp_path)
    archive.publish(warehouse, settings, {}, TODAY)
    public = settings.public_dir
    lines = [
        json.loads(line)
        for day in (1, 2, 3)
        for line in (public / f"events-2026-03-0{day}.jsonl").read_text().splitlines()
    ]
    table = pq.read_table(public / "launches-2026-03.parquet").to_pylist()
    assert len(lines) == len(table) == 120
    fields = {name for line in lines for name in line}
    assert fields <= set(table[0]) and set(table[0]) - fields == {"repo", "unresolved_ref"}
    for line, row in zip(lines, table):
        for name in fields:
            value = row[name]
            if name == "timestamp":
                value = value.isoformat()
            assert line.get(name) == value, (name, line, row)

    index = [json.loads(x) for x in (public / "index.jsonl").read_text().splitlines()]
    months = [json.loads(x) for x in (public / "months.jsonl").read_text().splitlines()]
    for entry in index + months:
        data = (public / entry["name"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
        assert datetime.fromisoformat(entry["generated"]).tzinfo is not None
    assert [(m["name"], m["month"], m["count"]) for m in months] == [
        ("launches-2026-03.parquet", "2026-03", 120)
    ]

    page = (public / "index.html").read_text()
    [ld] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    dataset = json.loads(ld)
    assert dataset["@context"] == "https://schema.org/" and dataset["@type"] == "Dataset"
    assert dataset["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert dataset["temporalCoverage"] == "2026-03-01/2026-03-03"
    downloads = {d["name"]: d for d in dataset["distribution"]}
    assert set(downloads) == {e["name"] for e in index + months}
    assert all(d["@type"] == "DataDownload" for d in downloads.values())
    assert downloads["launches-2026-03.parquet"]["encodingFormat"] == archive.PARQUET_TYPE
    assert downloads["events-2026-03-02.jsonl"]["sha256"] == index[1]["sha256"]
