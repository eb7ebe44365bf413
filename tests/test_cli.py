"""The ``binderops`` command as a user runs it: a real process, real files, real DuckDB."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from events import V6
from hypothesis import given, settings
from hypothesis import strategies as st

from binderops.local.cli import main

# An archive line: the timestamp already truncated, as the public archive has it.
LINE = {**V6, "timestamp": "2026-03-01T12:34:00+00:00"}


def binderops(*args, env, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "binderops.local.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def env(tmp_path):
    return {"BINDEROPS_WAREHOUSE": f"duckdb://{tmp_path / 'w.duckdb'}"}


@pytest.fixture
def archive(tmp_path) -> Path:
    """An archive day: 2,400 launches, two identical lines, one bad line, one blank line."""
    path = tmp_path / "events-2026-03-01.jsonl"
    lines = [
        json.dumps(
            {
                **LINE,
                "spec": f"owner/repo{n % 40}/HEAD",
                "timestamp": f"2026-03-01T{n % 24:02d}:{n % 60:02d}:00+00:00",
            }
        )
        for n in range(2398)
    ]
    lines += [
        json.dumps(LINE),
        json.dumps(LINE),
        '{"version": 6, "provider": "GitHub", "ip": "192.0.2.4"',
        "",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_backfill_loads_every_line_and_a_rerun_adds_nothing(env, archive):
    first = binderops("backfill", "--quiet", str(archive), env=env)
    assert first.stdout.startswith(
        "backfill: 2,401 lines in 1 file(s): 2,400 new launches on 1 day(s); 1 rejected "
        "(see launch_errors), the first: line is not valid JSON"
    )
    again = binderops("backfill", "--quiet", str(archive), env=env)
    assert again.stdout.startswith(
        "backfill: 2,401 lines in 1 file(s): 0 new launches on 1 day(s), 2,400 already loaded; "
        "1 rejected"
    )
    counts = json.loads(
        binderops(
            "query",
            "--format",
            "json",
            "SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS ids FROM launches",
            env=env,
        ).stdout
    )
    assert counts == [{"n": 2400, "ids": 2400}]
    # Two identical launches in one minute are two launches.
    same = json.loads(
        binderops(
            "query",
            "--format",
            "json",
            "SELECT event_id FROM launches WHERE repo = 'binder-examples/requirements' ORDER BY event_id",
            env=env,
        ).stdout
    )
    assert [re.sub(":[0-9a-f]{20}:", ":KEY:", r["event_id"]) for r in same] == [
        "archive:2026-03-01:KEY:0",
        "archive:2026-03-01:KEY:1",
    ]
    errors = json.loads(
        binderops(
            "query",
            "--format",
            "json",
            "SELECT event_id, reason, payload FROM raw.launch_errors",
            env=env,
        ).stdout
    )
    assert [re.sub(":[0-9a-f]{20}:", ":KEY:", e["event_id"]) for e in errors] == [
        "archive:error:KEY:0"
    ]
    assert errors[0]["reason"].startswith("line is not valid JSON")
    assert "192.0.2.4" not in errors[0]["payload"]


def test_backfill_reads_gzipped_archives(env, tmp_path):
    import gzip

    path = tmp_path / "events-2026-03-02.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write(json.dumps(LINE) + "\n")
    assert "1 new launch on 1 day(s)" in binderops("backfill", "-q", str(path), env=env).stdout
    [row] = json.loads(
        binderops("query", "--format", "json", "SELECT event_id FROM launches", env=env).stdout
    )
    assert re.fullmatch("archive:2026-03-01:[0-9a-f]{20}:0", row["event_id"])


def test_query_formats(env, archive):
    binderops("backfill", "-q", str(archive), env=env)
    sql = "SELECT provider, COUNT(*) AS n FROM launches GROUP BY provider"
    assert json.loads(binderops("query", "--format", "json", sql, env=env).stdout) == [
        {"provider": "GitHub", "n": 2400}
    ]
    assert binderops("query", "--format", "csv", sql, env=env).stdout == "provider,n\nGitHub,2400\n"
    assert (
        binderops("query", sql, env=env).stdout == "provider  n\n--------  ----\nGitHub    2400\n"
    )


def test_timestamps_and_dates_print_as_iso_8601(env, archive):
    binderops("backfill", "-q", str(archive), env=env)
    out = json.loads(
        binderops(
            "query",
            "--format",
            "json",
            "SELECT MIN(timestamp) AS first, MIN(DATE(timestamp)) AS day FROM launches",
            env=env,
        ).stdout
    )
    assert out == [{"first": "2026-03-01T00:00:00+00:00", "day": "2026-03-01"}]


def test_errors_are_clear_and_exit_2(env, tmp_path):
    binderops("setup", env=env)
    bad_sql = binderops("query", "SELECT * FROM nowhere", env=env, check=False)
    assert (
        bad_sql.returncode == 2
        and "binderops query:" in bad_sql.stderr
        and "nowhere" in bad_sql.stderr
    )
    missing = binderops("backfill", str(tmp_path / "missing.jsonl"), env=env, check=False)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    wrong = binderops("query", "SELECT 1", env={"BINDEROPS_WAREHOUSE": "postgres://x"}, check=False)
    assert (
        wrong.returncode == 2
        and "BINDEROPS_WAREHOUSE must be duckdb://PATH or bigquery://PROJECT/DATASET"
        in wrong.stderr
    )


def test_help_names_every_command(env):
    out = binderops("--help", env=env).stdout
    for command in ("run", "query", "backfill", "setup"):
        assert command in out
    assert "--format {table,json,csv}" in binderops("query", "--help", env=env).stdout
    assert "docs/operators.md lists every setting" in " ".join(out.split())


def test_send_without_a_running_stack_says_how_to_start_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BINDEROPS_STATE_DIR", str(tmp_path))
    assert main(["send", "github-push"]) == 2
    assert "start one with `binderops run`" in capsys.readouterr().err


def test_send_to_a_stopped_stack_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BINDEROPS_STATE_DIR", str(tmp_path))
    assert main(["send", "alert", "open", "--url", "http://127.0.0.1:9/", "--token", "t"]) == 1
    assert "nothing answers at http://127.0.0.1:9/" in capsys.readouterr().err


# Every user mistake: one line on stderr, exit 2, no traceback, no terminal escapes
def one_line_mistake(result) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "sql, says",
    [
        ("DROP TABLE raw.launches", "DuckDB reads this as DROP"),
        ("DELETE FROM raw.launches WHERE TRUE", "DuckDB reads this as DELETE"),
        ("INSERT INTO raw.launches SELECT * FROM raw.launches", "DuckDB reads this as INSERT"),
        ("CREATE TABLE x AS SELECT 1", "DuckDB reads this as CREATE"),
        ("UPDATE raw.launches SET repo = 'x' WHERE TRUE", "DuckDB reads this as UPDATE"),
        # A query in shape that writes: the read-only engine refuses it when it runs.
        (
            "WITH d AS (DELETE FROM raw.launches RETURNING *) SELECT count(*) FROM d",
            "attached in read-only mode",
        ),
        ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("SELECT * FROM read_json('/etc/*.json')", "file system operations are disabled"),
        ("INSTALL httpfs", "DuckDB reads this as LOAD"),
        ("LOAD httpfs", "DuckDB reads this as LOAD"),
        ("COPY raw.launches TO 'copy.csv'", "DuckDB reads this as COPY"),
        ("ATTACH 'other.duckdb' AS other", "DuckDB reads this as ATTACH"),
        ("SET enable_external_access = true", "DuckDB reads this as SET"),
        ("", "no SQL given"),
        ("   \n", "no SQL given"),
        ("SELEC 1", "cannot read this as BigQuery SQL"),
        ("SELECT 1; DROP TABLE raw.launches", "DuckDB reads this as DROP"),
        ("SELECT 1; SELECT 2", "expected one SQL statement"),
    ],
)
def test_query_is_read_only_at_the_engine_and_says_why_it_refuses(
    env, archive, tmp_path, sql, says
):
    binderops("backfill", "-q", str(archive), env=env)
    result = binderops("query", sql, env=env, check=False)
    line = one_line_mistake(result)
    assert line.startswith("binderops query: ") and says in line
    assert "root:" not in result.stdout + result.stderr
    count = "SELECT COUNT(*) AS n FROM raw.launches"
    assert binderops("query", "--format", "csv", count, env=env).stdout == "n\n2400\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "events-2026-03-01.jsonl",
        "w.duckdb",
        "w.duckdb.sql.json",
    ]


def test_query_lists_tables_the_bigquery_way(env):
    binderops("setup", env=env)
    sql = "SELECT table_name FROM INFORMATION_SCHEMA.TABLES WHERE table_schema = 'main'"
    out = binderops("query", sql, "--format", "json", env=env).stdout
    assert {"launches", "launches_daily", "incidents"} <= {r["table_name"] for r in json.loads(out)}


def test_reading_a_warehouse_that_does_not_exist_says_so_and_makes_none(tmp_path):
    env = {"BINDEROPS_WAREHOUSE": f"duckdb://{tmp_path / 'nowhere.duckdb'}"}
    for args in (["query", "SELECT 1"], ["costs"]):
        line = one_line_mistake(binderops(*args, env=env, check=False))
        assert "no warehouse at" in line and "binderops run" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content, says",
    [
        (b"not gzip at all\n", "Not a gzipped file"),
        (None, "ended before the end-of-stream marker"),
    ],
)
def test_an_unreadable_archive_is_named_in_one_line(tmp_path, env, content, says):
    import gzip

    path = tmp_path / "events-2026-03-01.jsonl.gz"
    whole = gzip.compress(json.dumps(LINE).encode() * 1000)
    path.write_bytes(content if content is not None else whole[: len(whole) // 2])
    line = one_line_mistake(binderops("backfill", "-q", str(path), env=env, check=False))
    assert str(path) in line and says in line


def test_a_folder_as_warehouse_and_bigquery_without_credentials_are_one_line(tmp_path):
    line = one_line_mistake(
        binderops(
            "query", "SELECT 1", env={"BINDEROPS_WAREHOUSE": f"duckdb://{tmp_path}"}, check=False
        )
    )
    assert "is a folder" in line
    no_credentials = {
        "BINDEROPS_WAREHOUSE": "bigquery://p/d",
        "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "missing.json"),
    }
    line = one_line_mistake(binderops("query", "SELECT 1", env=no_credentials, check=False))
    assert "no Google credentials" in line


def test_a_wrong_emulator_path_is_one_line(tmp_path):
    env = {
        "BINDEROPS_STATE_DIR": str(tmp_path),
        "BINDEROPS_PUBSUB_EMULATOR": str(tmp_path / "nope"),
    }
    line = one_line_mistake(binderops("run", "--once", "--launches", "5", env=env, check=False))
    assert "BINDEROPS_PUBSUB_EMULATOR" in line


def test_a_second_run_in_the_same_folder_refuses_and_names_the_first(tmp_path):
    from binderops.local.stack import one_run_at_a_time

    with one_run_at_a_time(tmp_path):
        env = {"BINDEROPS_STATE_DIR": str(tmp_path)}
        line = one_line_mistake(
            binderops("run", "--once", "--no-emulator", "--launches", "5", env=env, check=False)
        )
    assert f"(PID {os.getpid()})" in line and str(tmp_path) in line


def test_local_logs_carry_timestamps():
    import re

    code = "import logging; from binderops.core import logs; logs.setup({}); "
    code += "logging.getLogger('binderops.test').info('hello')"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO binderops.test: hello\n", result.stderr
    )


# Output safe to paste: nothing a terminal acts on, nothing a spreadsheet runs
TERMINAL_UNSAFE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.text(
            st.sampled_from(
                [
                    "\x1b",
                    "\x07",
                    "\x9b",
                    "\r",
                    "\t",
                    "\u202e",
                    "\u2066",
                    "=",
                    "+",
                    "-",
                    "@",
                    "a",
                    " ",
                    ",",
                    '"',
                    "\n",
                ]
            )
        )
        | st.integers(min_value=-5, max_value=5),
        min_size=1,
        max_size=4,
    )
)
def test_query_output_escapes_what_a_terminal_acts_on_and_disarms_formulas(values):
    import csv
    import io

    from binderops.local.tables import format_rows

    rows = [{f"c{n}": value for n, value in enumerate(values)}]
    table = format_rows(rows, "table")
    assert not TERMINAL_UNSAFE.search(table) and table.count("\n") == 2
    assert not TERMINAL_UNSAFE.search(format_rows(rows, "json"))
    assert json.loads(format_rows(rows, "json"))[0].keys() == rows[0].keys()
    [_header, cells] = list(csv.reader(io.StringIO(format_rows(rows, "csv"))))
    for value, cell in zip(values, cells, strict=True):
        assert not TERMINAL_UNSAFE.search(cell.replace("\n", ""))
        if isinstance(value, str):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (value, cell)
        else:
            assert cell == str(value)  # a number stays a number


def test_launch_data_cannot_drive_the_terminal_of_whoever_queries_it(env, tmp_path):
    path = tmp_path / "events-2026-03-01.jsonl"
    hostile = "owner/repo/\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b[2J"
    path.write_text(json.dumps({**LINE, "spec": hostile}) + "\n")
    binderops("backfill", "-q", str(path), env=env)
    for fmt in ("table", "csv", "json"):
        out = binderops("query", "--format", fmt, "SELECT spec FROM launches", env=env).stdout
        assert "\x1b" not in out and "\x07" not in out
        assert "\\x1b]8" in out or "\\u001b]8" in out  # shown, escaped
