"""The embedded warehouse: tables and views from schemas/, idempotent writes, BigQuery SQL."""

import hashlib
import itertools
import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binderops.warehouse import WarehouseUnavailable, open_warehouse, schemas
from binderops.warehouse.duckdb import DuckDBWarehouse, Translations
from binderops.warehouse.sql import Constraints, QueryError, to_duckdb

NOW = datetime(2026, 3, 1, 12, 34, tzinfo=UTC)
SELECT_ONE = hashlib.sha256(b"SELECT 1 AS n").hexdigest()  # its key among saved translations


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


def test_the_dedupe_of_a_key_duckdb_keeps_unique_is_dropped_in_translation():
    unique = Constraints(unique=frozenset({("raw", "launches", "event_id")}))
    assert (
        to_duckdb("SELECT COUNT(DISTINCT event_id) AS n FROM raw.launches", unique)
        == "SELECT COUNT(*) AS n FROM raw.launches"
    )
    first = (
        "SELECT event_id FROM raw.launches AS l "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY l.event_id ORDER BY ingested_at) = 1"
    )
    assert to_duckdb(first, unique) == "SELECT event_id FROM raw.launches AS l"
    # A subquery that passes the table's rows on unchanged, filtered and ordered, keeps the key.
    assert (
        to_duckdb(
            "SELECT COUNT(DISTINCT event_id) AS n FROM "
            "(SELECT * FROM raw.launches WHERE repo = 'a' ORDER BY timestamp)",
            unique,
        )
        == "SELECT COUNT(*) AS n FROM (SELECT * FROM raw.launches WHERE repo = 'a' "
        "ORDER BY timestamp NULLS FIRST)"
    )
    for kept in (
        "SELECT COUNT(DISTINCT repo) AS n FROM raw.launches",  # not the key
        "SELECT COUNT(DISTINCT event_id) AS n FROM raw.launch_errors",  # not kept unique here
        # A join repeats keys.
        "SELECT COUNT(DISTINCT l.event_id) AS n FROM raw.launches AS l JOIN raw.x AS m USING (r)",
        "SELECT COUNT(DISTINCT event_id) AS n FROM (SELECT event_id FROM raw.launches "
        "UNION ALL SELECT event_id FROM raw.launches)",
        "SELECT COUNT(DISTINCT event_id) AS n FROM (SELECT * FROM raw.launches "
        "JOIN raw.x USING (r))",
        # REPLACE can repeat a key (or make a NULL).
        "SELECT COUNT(DISTINCT event_id) AS n FROM "
        "(SELECT * REPLACE ('x' AS event_id) FROM raw.launches)",
        "SELECT event_id FROM raw.launches "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY repo ORDER BY ingested_at) = 1",
        "SELECT event_id FROM raw.launches "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ingested_at) = 2",
    ):
        assert to_duckdb(kept, unique) == to_duckdb(kept), kept


# CONCATs whose translation differs once DuckDB's NOT NULL on k is known, each with the
# DuckDB concat() the rewrite must produce; and CONCATs that must stay chains of ||.
NATIVE_CONCATS = {
    "CONCAT('<', k, '>')": "CONCAT('<', k, '>')",
    "CONCAT('<', a, k, '>')": "'<' || a || CONCAT(k, '>')",
    "CONCAT(k, IF(a IS NULL, '', CONCAT(', ', TO_JSON_STRING(a))), '}')": "CONCAT(k, CASE",
    "CONCAT(IF(n < 2 OR b IS NULL, '-', CONCAT(b, '!')), 'z')": "CONCAT(CASE",
    "CONCAT(CAST(n AS STRING), k, FORMAT_TIMESTAMP('%H:%M', t, 'UTC'), 'x')": "|| CONCAT(k, ",
}
KEPT_CONCATS = [
    "CONCAT(IF(a IS NULL, b, 'q'), 'w')",  # b may be NULL where it is drawn
    "CONCAT(IF(a IS NOT NULL, CONCAT(a, '.'), ''), b)",  # only an IS NULL test is read
    "CONCAT(SAFE_CAST(k AS STRING), a)",  # a safe cast may give NULL
    "CONCAT(IF(a IS NULL AND n > 1, '', a), 'x')",  # AND: a may be NULL in the ELSE
]
ROWS = st.tuples(
    st.text('ab,"é', max_size=3),
    *[st.none() | st.text("xy'\\", max_size=3) for _ in "ab"],
    st.none() | st.integers(0, 3),
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(ROWS, min_size=1, max_size=6))
def test_concat_becomes_duckdbs_concat_where_no_argument_can_be_null(rows):
    """DuckDB's concat() skips NULLs where BigQuery's CONCAT gives NULL, so the rewrite uses
    it only for arguments that cannot be NULL: every CONCAT gives the same values as the
    chain of || sqlglot writes (which keeps BigQuery's meaning), on any rows."""
    import duckdb
    import sqlglot

    constraints = Constraints(required=frozenset({("raw", "t", "k"), ("raw", "t", "t")}))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE raw.t (k VARCHAR NOT NULL, a VARCHAR, b VARCHAR, n BIGINT, "
        "t TIMESTAMPTZ NOT NULL DEFAULT TIMESTAMPTZ '2026-03-01 12:34:00+00')"
    )
    con.executemany("INSERT INTO raw.t (k, a, b, n) VALUES (?, ?, ?, ?)", rows)
    # The table itself, and a subquery passing its rows on (filtered, ordered) unchanged.
    sources = ["raw.t", "(SELECT * FROM raw.t WHERE n IS NULL OR n < 3 ORDER BY k)"]
    for concat, source in itertools.product([*NATIVE_CONCATS, *KEPT_CONCATS], sources):
        query = f"SELECT {concat} AS v FROM {source} ORDER BY k, a, b, n"
        native = to_duckdb(query, constraints)
        [chained] = sqlglot.transpile(query, read="bigquery", write="duckdb")
        if concat in NATIVE_CONCATS:
            assert NATIVE_CONCATS[concat] in native, native
        else:
            assert native == chained, native
        assert con.execute(native).fetchall() == con.execute(chained).fetchall(), native


@settings(max_examples=40, deadline=None)
@given(
    stamps=st.lists(
        st.datetimes(datetime(1970, 1, 2), datetime(2200, 1, 1), timezones=st.just(UTC)),
        min_size=1,
        max_size=5,
    ),
    zone=st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]),
)
def test_format_timestamp_gives_the_utc_wall_clock_whatever_the_session_zone(stamps, zone):
    """BigQuery formats in UTC; the translation reads the UTC wall clock without a zone
    lookup, so neither the session's zone nor the lookup's cost enter into it."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    con.execute("CREATE TABLE t (ts TIMESTAMPTZ NOT NULL)")
    con.executemany("INSERT INTO t VALUES (?)", [(s,) for s in stamps])
    fmt = "%Y-%m-%dT%H:%M:%S.%f"
    for call in (f"FORMAT_TIMESTAMP('{fmt}', ts, 'UTC')", f"FORMAT_TIMESTAMP('{fmt}', ts)"):
        translated = to_duckdb(f"SELECT {call} AS v FROM t")
        assert "MAKE_TIMESTAMP(EPOCH_US(ts))" in translated
        got = sorted(v for (v,) in con.execute(translated).fetchall())
        assert got == sorted(s.strftime(fmt) for s in stamps)
    # Another zone is not UTC's wall clock: left to sqlglot.
    other = "SELECT FORMAT_TIMESTAMP('%H', ts, 'Europe/Paris') AS v FROM t"
    assert "MAKE_TIMESTAMP" not in to_duckdb(other)


def test_refresh_swaps_a_range_for_its_new_rows_and_leaves_the_others(warehouse):
    """repo_launches_daily: a refresh computes a day's rows beside the table and swaps them
    in, appended after the other days' rows, which stay as they were."""
    select = schemas.sql_in("archive/repo_days", warehouse.names)
    first, second = NOW, NOW.replace(day=2)

    def launches_on(when: datetime, repos: int) -> list[tuple]:
        names = [f"r/{n:05d}" for n in range(repos)]
        return [launch_row(f"{when:%d}-{name}", repo=name, when=when) for name in names]

    def stored() -> list[tuple]:
        with warehouse.session() as con:
            return con.execute(
                "SELECT day, count(*), sum(launches) FROM main.repo_launches_daily "
                "GROUP BY day ORDER BY min(rowid)"
            ).fetchall()

    for when, repos in ((first, 1000), (second, 500)):
        warehouse.load("launches", launches_on(when, repos))
        warehouse.refresh("repo_launches_daily", "day", [(when.date(), when.date())], select)
    assert stored() == [(first.date(), 1000, 1000), (second.date(), 500, 500)]

    warehouse.load("launches", launches_on(first, 1200))  # 200 more repositories that day
    warehouse.refresh("repo_launches_daily", "day", [(first.date(), first.date())], select)
    assert stored() == [(second.date(), 500, 500), (first.date(), 1200, 1200)]


def test_a_warehouse_made_with_the_old_repository_index_loses_it(tmp_path):
    """Badges once looked their repository up through an index on it; nothing does now, and
    every refresh would keep it up, so opening such a file drops it."""
    path = tmp_path / "w.duckdb"
    first = DuckDBWarehouse(str(path))
    first.setup()
    first.close()
    with duckdb.connect(str(path)) as con:
        con.execute('CREATE INDEX "repo_launches_daily_repo" ON main.repo_launches_daily (repo)')
    again = DuckDBWarehouse(str(path))
    with again.session() as con:
        assert con.execute("SELECT index_name FROM duckdb_indexes()").fetchall() == []
    again.close()


def test_unreadable_sql_is_a_clear_error(warehouse):
    with pytest.raises(QueryError, match="cannot read this as BigQuery SQL"):
        warehouse.query("SELECT FROM WHERE (")
    with pytest.raises(QueryError, match="no_such_table"):
        warehouse.query("SELECT * FROM no_such_table")


def test_a_process_whose_queries_were_translated_before_never_imports_sqlglot(tmp_path):
    """Translations are saved beside the file, so the next process reads them instead of
    importing sqlglot (0.2 s) to translate the catalog's views and its queries again. The
    process that imported it saved the package's other SQL files too: the next one runs
    one of those, which it never ran before, without sqlglot either."""
    path = tmp_path / "w.duckdb"

    def run(query: str, params: str = "None") -> list[str]:
        code = (
            "import sys\n"
            "from datetime import date\n"
            "from binderops.warehouse import schemas\n"
            "from binderops.warehouse.duckdb import DuckDBWarehouse\n"
            f"w = DuckDBWarehouse({str(path)!r})\n"
            f"n = len(w.query({query}, {params}))\n"
            "w.close()\n"
            "print(n, 'sqlglot' in sys.modules)\n"
        )
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        ).stdout.split()

    assert run("'SELECT COUNT(DISTINCT event_id) AS n FROM raw.launches'") == ["1", "True"]
    assert run("'SELECT COUNT(DISTINCT event_id) AS n FROM raw.launches'") == ["1", "False"]
    day = "{'first': date(2026, 3, 1), 'last': date(2026, 3, 1)}"
    assert run("schemas.sql_in('archive/day_counts', w.names)", day) == ["0", "False"]
    saved = json.loads((tmp_path / "w.duckdb.sql.json").read_text())
    assert "SELECT COUNT(*) AS n FROM raw.launches" in saved["sql"].values()


@pytest.mark.parametrize(
    "saved",
    [
        b"{not json",
        b'["a list"]',
        # Saved by another sqlglot or translator: its translations may differ.
        json.dumps({"translator": "another", "sql": {SELECT_ONE: "SELECT 2 AS n"}}).encode(),
    ],
    ids=["unreadable", "not an object", "another translator"],
)
def test_saved_translations_that_cannot_be_trusted_are_dropped(tmp_path, saved):
    path = tmp_path / "w.duckdb.sql.json"
    path.write_bytes(saved)
    warehouse = DuckDBWarehouse(str(tmp_path / "w.duckdb"))
    assert warehouse.query("SELECT 1 AS n") == [{"n": 1}]
    warehouse.close()
    rewritten = json.loads(path.read_text())
    assert rewritten["translator"] != "another"
    assert rewritten["sql"][SELECT_ONE] == "SELECT 1 AS n"


def test_saved_translations_keep_the_newest_ones(tmp_path):
    """The CLI's ad hoc queries add to the file; past its limit the oldest go."""
    translate = Translations(tmp_path / "t.json", limit=3)
    for n in range(5):
        assert translate(f"SELECT {n} AS n") == f"SELECT {n} AS n"
    saved = json.loads((tmp_path / "t.json").read_text())["sql"]
    assert sorted(saved.values()) == ["SELECT 2 AS n", "SELECT 3 AS n", "SELECT 4 AS n"]


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


def test_under_steady_work_the_file_changes_hands_only_when_another_process_asks(tmp_path):
    """A busy function keeps its connection (and DuckDB's cache of the file's blocks); a
    process that waits for the file says so, and gets its turn within a second or so."""
    path = tmp_path / "w.duckdb"
    warehouse = open_warehouse(f"duckdb://{path}")
    warehouse.insert("launches", [launch_row("a")])
    connections = set()

    def work(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            with warehouse.session() as con:
                connections.add(id(con))
                con.execute("SELECT COUNT(*) FROM raw.launches").fetchall()

    work(2.5)  # past MAX_HOLD_SECONDS, with no one waiting
    assert len(connections) == 1
    other = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from binderops.warehouse.duckdb import DuckDBWarehouse; "
            f"w = DuckDBWarehouse('{path}'); "
            "print(w.query('SELECT COUNT(*) AS n FROM raw.launches')); w.close()",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    busy = threading.Thread(target=work, args=(6.0,))
    started = time.monotonic()
    busy.start()
    out, err = other.communicate(timeout=60)
    waited = time.monotonic() - started
    busy.join()
    warehouse.close()
    assert out.strip() == "[{'n': 1}]", err
    assert waited < 5.0  # it did not wait for the busy process to go idle
    assert len(connections) >= 2  # the busy process stepped aside, then went on


def test_a_warehouse_made_before_a_column_was_appended_gets_it(tmp_path):
    url = f"duckdb://{tmp_path / 'old.duckdb'}"
    old = open_warehouse(url)
    old.setup()
    with old.session() as con:
        con.execute("ALTER TABLE cloud_costs_daily DROP COLUMN reporting_net_micros")
        con.execute("ALTER TABLE cloud_costs_daily DROP COLUMN reporting_currency")
    old.close()
    again = open_warehouse(url)
    with again.session() as con:
        columns = [r[0] for r in con.execute("DESCRIBE cloud_costs_daily").fetchall()]
    again.close()
    assert columns[-2:] == ["reporting_currency", "reporting_net_micros"]
