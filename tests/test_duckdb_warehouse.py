"""The embedded warehouse: tables and views from schemas/, idempotent writes, BigQuery SQL."""

import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from binderops.warehouse import WarehouseUnavailable, open_warehouse, schemas
from binderops.warehouse.duckdb import DuckDBWarehouse
from binderops.warehouse.sql import QueryError

NOW = datetime(2026, 3, 1, 12, 34, tzinfo=UTC)


def launch_row(event_id, repo="a/b", when=NOW, ingested_at=NOW):
    return (
        event_id,
        when,
        6,
        "GitHub",
        f"{repo}/HEAD",
        repo,
        "HEAD",
        "",
        "success",
        "gke.mybinder.org",
        False,
        "",
        ingested_at,
    )


def test_tables_follow_the_schema_files(warehouse):
    with warehouse.session() as con:
        found = con.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'launches' ORDER BY ordinal_position"
        ).fetchall()
    rows = [dict(zip(["column_name", "data_type", "is_nullable"], r)) for r in found]
    fields = schemas.read_json("bigquery/launches.json")
    assert [r["column_name"] for r in rows] == [f["name"] for f in fields]
    assert [r["is_nullable"] for r in rows] == [
        "NO" if f["mode"] == "REQUIRED" else "YES" for f in fields
    ]
    assert rows[1]["data_type"] == "TIMESTAMP WITH TIME ZONE"


def test_insert_and_load_keep_one_row_per_event_id(warehouse):
    warehouse.insert("launches", [launch_row("a")])
    warehouse.insert("launches", [launch_row("a")])
    assert (
        warehouse.load(
            "launches", [launch_row(f"bulk:{n}") for n in range(100)] + [launch_row("a")]
        )
        == 100
    )
    assert warehouse.load("launches", [launch_row(f"bulk:{n}") for n in range(100)]) == 0
    assert warehouse.query("SELECT COUNT(*) AS n FROM raw.launches") == [{"n": 101}]


def test_daily_view_counts_per_day_origin_provider_repo_status(warehouse):
    warehouse.load(
        "launches",
        [launch_row(f"x{n}", repo="a/b") for n in range(70)]
        + [launch_row(f"y{n}", repo="c/d", when=NOW.replace(day=2)) for n in range(3)],
    )
    rows = warehouse.query("SELECT day, repo, launches FROM launches_daily ORDER BY day")
    assert [(str(r["day"]), r["repo"], r["launches"]) for r in rows] == [
        ("2026-03-01", "a/b", 70),
        ("2026-03-02", "c/d", 3),
    ]


def test_bigquery_sql_is_translated_for_duckdb(warehouse):
    warehouse.insert(
        "launches", [launch_row("a"), launch_row("b", when=NOW.replace(hour=23, minute=59))]
    )
    rows = warehouse.query(
        "SELECT FORMAT_TIMESTAMP('%Y-%m-%d %H', TIMESTAMP_TRUNC(timestamp, HOUR)) AS hour, "
        "COUNTIF(status = 'success') AS ok, SAFE_CAST('x' AS INT64) AS nothing "
        "FROM launches GROUP BY hour ORDER BY hour"
    )
    assert rows == [
        {"hour": "2026-03-01 12", "ok": 1, "nothing": None},
        {"hour": "2026-03-01 23", "ok": 1, "nothing": None},
    ]


def test_unreadable_sql_is_a_clear_error(warehouse):
    with pytest.raises(QueryError, match="cannot read this as BigQuery SQL"):
        warehouse.query("SELECT FROM WHERE (")
    with pytest.raises(QueryError, match="no_such_table"):
        warehouse.query("SELECT * FROM no_such_table")


def test_idle_connection_releases_the_file_for_another_process(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse = open_warehouse(f"duckdb://{path}")
    warehouse.insert("launches", [launch_row("a")])
    time.sleep(0.6)  # past IDLE_SECONDS
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import duckdb; print(duckdb.connect('{path}').execute('SELECT COUNT(*) FROM "
            "raw.launches').fetchall())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.stdout.strip() == "[(1,)]", other.stderr
    warehouse.close()


def test_file_held_by_another_process_is_a_transient_failure(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect('{path}'); print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        warehouse = DuckDBWarehouse(str(path), lock_wait=0.5)
        with pytest.raises(WarehouseUnavailable, match="lock"):
            warehouse.insert("launches", [launch_row("a")])
    finally:
        holder.kill()
        holder.wait()
