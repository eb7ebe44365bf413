"""Backfill, exactly once: ids from content, live days kept apart, and the fast path (DuckDB
reading the files, lines decided in SQL) giving what the Python path gives, line for line."""

from __future__ import annotations

import gzip
import json
import random
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from events import V6
from fakes.bigquery import FakeBigQuery
from fakes.http import RecordingServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binderops.launches import staged
from binderops.launches.backfill import backfill, content_key, summary
from binderops.launches.events import to_row
from binderops.warehouse import open_warehouse, schemas

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LINE = {**V6, "timestamp": "2026-03-01T12:34:00+00:00"}


def day_file(path: Path, n: int, day: str = "2026-03-01", seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    lines = [
        json.dumps(
            {
                **LINE,
                "timestamp": f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00+00:00",
                "spec": f"owner/repo{rng.randrange(30)}/HEAD",
            }
        )
        for _ in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return lines


def table(warehouse, name: str = "launches") -> list[tuple]:
    with warehouse.session() as con:
        return sorted(con.execute(f"SELECT * FROM raw.{name}").fetchall(), key=repr)


def load(paths, warehouse, **options):
    return backfill(paths, warehouse, "mybinder.org", ingested_at=NOW, **options)


def test_copies_renamed_gzipped_or_sorted_differently_add_nothing(tmp_path, warehouse):
    original = tmp_path / "events-2026-03-01.jsonl"
    lines = day_file(original, 3000)
    first = load([original], warehouse)
    assert (first.lines, first.loaded, first.undecided) == (3000, 3000, 0)
    assert load([original], warehouse).loaded == 0

    copy = tmp_path / "copy-of-march-first.jsonl.gz"
    with gzip.open(copy, "wt") as f:
        f.write("\n".join(lines) + "\n")
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("\n".join(random.Random(2).sample(lines, len(lines))) + "\n")
    again = load([copy, shuffled], warehouse)
    assert (again.lines, again.loaded) == (6000, 0)
    assert len(table(warehouse)) == 3000


def copies_in_one_run(folder: Path, n: int) -> list[Path]:
    """A day's file of ``n`` lines, a gzipped copy in reverse, a re-published copy with 5
    late lines (one identical to a line already there), and another day's file of 50."""
    original = folder / "events-2026-03-01.jsonl"
    lines = day_file(original, n)
    copy = folder / "copy.jsonl.gz"
    with gzip.open(copy, "wt") as f:
        f.write("\n".join(reversed(lines)) + "\n")
    republished = folder / "republished.jsonl"
    late = [json.dumps({**LINE, "spec": f"late/repo{k}/HEAD"}) for k in range(4)]
    republished.write_text("\n".join([*lines, *late, lines[17]]) + "\n")
    other_day = folder / "events-2026-03-02.jsonl"
    day_file(other_day, 50, seed=3, day="2026-03-02")
    return [p.resolve() for p in (original, copy, republished, other_day)]


def test_copies_in_one_run_count_each_launch_once(tmp_path, warehouse):
    """Copies read in one batch give one another's ids: each launch is loaded once, and a
    re-published copy with late lines adds just those."""
    result = load(copies_in_one_run(tmp_path, 3000), warehouse)
    assert (result.lines, result.loaded) == (3000 + 3000 + 3005 + 50, 3055)
    assert len(table(warehouse)) == 3055


def test_a_republished_day_adds_only_its_late_lines(tmp_path, warehouse):
    path = tmp_path / "events-2026-03-01.jsonl"
    lines = day_file(path, 2000)
    load([path], warehouse)
    late = [json.dumps({**LINE, "spec": f"late/repo{n}/HEAD"}) for n in range(4)]
    late.append(lines[17])  # a late launch identical to one already there: a second launch
    republished = lines[:]
    for n, line in enumerate(late):
        republished.insert(100 * n + 3, line)
    path.write_text("\n".join(republished) + "\n")
    assert load([path], warehouse).loaded == 5
    assert len(table(warehouse)) == 2005


def test_identical_lines_in_one_minute_are_each_a_launch(tmp_path, warehouse):
    path = tmp_path / "events-2026-03-01.jsonl"
    path.write_text((json.dumps(LINE) + "\n") * 3)
    result = load([path], warehouse)
    assert result.loaded == 3
    key = content_key(to_row(LINE, "", NOW, "mybinder.org"))
    assert sorted(r[0] for r in table(warehouse)) == [
        f"archive:2026-03-01:{key}:{n}" for n in range(3)
    ]


def test_a_day_with_live_launches_is_skipped_then_replaced_in_one_go(tmp_path, warehouse):
    live = [
        to_row({**LINE, "spec": f"live/repo{n}/HEAD"}, f"1981947010{n:06d}", NOW, "")
        for n in range(7)
    ]
    warehouse.insert("launches", live)
    march_1, march_2 = tmp_path / "events-2026-03-01.jsonl", tmp_path / "events-2026-03-02.jsonl"
    day_file(march_1, 500)
    day_file(march_2, 300, day="2026-03-02")

    skipped = load([march_1, march_2], warehouse)
    assert skipped.loaded == 300 and skipped.skipped == 500
    assert skipped.live == {date(2026, 3, 1): 7}
    assert summary(skipped)[1] == (
        "  2026-03-01: skipped, holds 7 launches ingested live; --replace-live replaces them "
        "with the archive's, in one transaction"
    )
    assert len(table(warehouse)) == 307

    replaced = load([march_1, march_2], warehouse, replace_live=True)
    assert replaced.loaded == 500 and replaced.live == {date(2026, 3, 1): 7}
    rows = table(warehouse)
    assert len(rows) == 800 and all(r[0].startswith("archive:") for r in rows)
    fresh = open_warehouse(f"duckdb://{tmp_path / 'fresh.duckdb'}")
    fresh.setup()
    load([march_1, march_2], fresh)
    assert table(fresh) == rows  # exactly what a backfill into an empty warehouse gives
    fresh.close()


PROVIDERS = schemas.launch_event_schemas()[6]["properties"]["provider"]["enum"]
SPECS = [
    "owner/repo/HEAD",
    "owner/repo.git/main",
    "owner/repo/feature/x",
    "owner/repo",
    "owner/.git/x",
    "owner",
    "/repo/x",
    "owner//x",
    "https%3A%2F%2Fgitlab.com%2Fa%2Fb/main",
    "https%3A%2F%2Fu%3As3cret%40gitlab.com%2Fa/main",
    "https%253A%252F%252Fgitlab.com%252Fa/main",
    "a%2Bb/c+d",
    "%zz/re%f",
    "%C3%A9t%C3%A9/x",
    "%FF%FE/x",
    "%C3/x",
    "10.5281/zenodo.3242074",
    "https://data.example.org/dataset/x?token=1",
    "https%3A%2F%2Fdata.example.org%2Fdataset%2Fx",
    "",
    "u:p@github.com/x/y",
    "a;token=b/c",
    "é/ü/ß",
    "a\\b/c",
    "x#frag/y",
    "line\nbreak/x/y",
]
TIMESTAMPS = [
    "2026-03-01T12:34:00+00:00",
    "2026-03-01T12:34:56Z",
    "2026-03-01T12:34:56.789Z",
    "2026-03-01T12:34:56.7+00:00",
    "2026-03-01T12:34:56.1234567Z",
    "2026-03-01T12:34+00:00",
    "2026-03-01 12:34:00+00:00",
    "2026-03-01T12:34:00",
    "2026-02-30T00:00:00Z",
    "2026-03-01T23:59:59-05:00",
    "2026-03-02T00:30:00+14:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2027-01-01T00:00:00Z",
    "2026-12-07T11:00:00Z",
    "2026-03-01T24:00:00Z",
    "2026-03-01T12:34:60Z",
    "2026-03-01t12:34:00z",
    "not a time",
]
ORIGINS = [
    "",
    "same-origin",
    "cross-site",
    "null",
    "https://mybinder.org",
    "HTTPS://MyBinder.org",
    "https://mybinder.org:443/x",
    "http://192.0.2.1",
    "https://1-2-3-4.nip.io",
    "https://" + "a" * 70,
    "https://a-",
    "https://a.b-",
    "ftp://x.org",
    "https://ok.example/p@x",
    "https://xn--bcher-kva.example",
]
MISSING = object()


# Each field: values of the schema's type (some that SQL can decide, some only Python can),
# and values of a wrong kind. An event is valid in most fields and odd in a few, so both
# the SQL and the Python path see every value.
FIELDS = {
    "timestamp": (TIMESTAMPS, [12345]),
    "schema": (["binderhub.jupyter.org/launch"], ["other/schema"]),
    "version": ([1, 2, 3, 4, 5, 6], [7, "6", 6.0, True, 0]),
    "provider": (PROVIDERS, ["Bitbucket", 3]),
    "spec": (SPECS, [1]),
    "status": (["success", "failure"], ["other"]),
    "origin": (["gke.mybinder.org", ""], ["x" * 256, 1]),
    "ref": (["50533eb", ""], ["r" * 1025]),
    "build_token": ([True, False], ["yes", 1]),
    "request_origin": (ORIGINS, [["x"]]),
    "extra": (["kept out"], [{"nested": [1]}]),
}


@st.composite
def events(draw) -> dict:
    event = {}
    for name, (usual, _) in FIELDS.items():
        if name == "spec":
            event[name] = draw(
                st.one_of(st.sampled_from(usual), st.text("ab/%2FC3+@?#;.-_é\\ ", max_size=12))
            )
        else:
            event[name] = draw(st.sampled_from(usual))
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=2, unique=True)):
        event[name] = draw(st.sampled_from([*FIELDS[name][1], None, MISSING]))
    return {k: v for k, v in event.items() if v is not MISSING}


@st.composite
def lines(draw, garbage: bool) -> bytes:
    event = draw(events())
    wrapper = draw(st.sampled_from(["none"] * 6 + ["json", "message", "text", "null"]))
    if wrapper == "json":
        event = {"logName": "x", "jsonPayload": event}
    elif wrapper == "message":
        event = {"jsonPayload": {"message": json.dumps(event)}}
    elif wrapper == "text":
        event = {"textPayload": json.dumps(event)}
    elif wrapper == "null":
        event = {**event, "jsonPayload": None}
    text = json.dumps(event, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        text = text.replace("/", "\\/")
    if garbage and draw(st.integers(0, 4)) == 0:
        text = draw(
            st.sampled_from(
                [
                    "not json",
                    "[1, 2]",
                    '"x"',
                    "{",
                    '{"version": 6} {"version": 6}',
                    '{"version": 6, "version": 5, "timestamp": "2026-03-01T00:00:00Z"}',
                    "\ufeff" + text,
                    "\x0b",
                    "   ",
                ]
            )
        )
    return text.encode()


@st.composite
def archives(draw) -> list[tuple[bool, list[bytes]]]:
    files = []
    for _ in range(draw(st.integers(1, 3))):
        garbage = draw(st.booleans())
        found = draw(st.lists(lines(garbage), min_size=1, max_size=20))
        found += draw(st.lists(st.sampled_from(found), max_size=4))  # identical lines
        files.append((draw(st.booleans()), draw(st.permutations(found))))
    return files


def write(folder: Path, files: list[tuple[bool, list[bytes]]]) -> list[Path]:
    """The generated ``files`` on disk, gzipped where they say so."""
    paths = []
    for n, (compressed, found) in enumerate(files):
        path = folder / f"events-{n}.jsonl{'.gz' if compressed else ''}"
        content = b"\n".join(found) + b"\n"
        path.write_bytes(gzip.compress(content) if compressed else content)
        paths.append(path.resolve())
    return paths


@pytest.fixture(scope="module")
def two_warehouses(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paths")
    both = []
    for name in ("native", "python"):
        w = open_warehouse(f"duckdb://{folder / name}.duckdb")
        w.setup()
        both.append(w)
    yield folder, both
    for w in both:
        w.close()


@settings(
    max_examples=int(__import__("os").environ.get("BF_EXAMPLES", 60)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(files=archives())
def test_the_fast_path_gives_what_the_python_path_gives(two_warehouses, files):
    """Every provider, version, malformed kind and wrapper: rows, error rows and ids are the
    same whether DuckDB decided a line or Python did."""
    folder, (fast, slow) = two_warehouses
    paths = write(folder, files)
    results = []
    for warehouse, native in ((fast, True), (slow, False)):
        with warehouse.session() as con:
            con.execute("DELETE FROM raw.launches")
            con.execute("DELETE FROM raw.launch_errors")
        result = load(paths, warehouse, native=native)
        results.append((result.lines, result.loaded, result.rejected, result.first_reason))
    assert results[0] == results[1]
    assert table(fast) == table(slow)
    assert table(fast, "launch_errors") == table(slow, "launch_errors")


def archive_lines(path: Path) -> None:
    """Lines as mybinder.org's archive holds them: every provider and every version."""
    rows = []
    for n, provider in enumerate(PROVIDERS * 3):
        version = 1 + n % 6
        event = {**LINE, "provider": provider, "version": version, "spec": SPECS[n % 3]}
        keep = {"timestamp", "schema", "version", "provider", "spec", "status"}
        keep |= {"origin"} if version >= 3 else set()
        keep |= {"ref"} if version >= 4 else set()
        keep |= {"build_token"} if version >= 5 else set()
        keep |= {"request_origin"} if version >= 6 else set()
        rows.append(json.dumps({k: v for k, v in event.items() if k in keep}))
    path.write_text("\n".join(rows) + "\n")


def test_the_fast_path_decides_what_the_archive_holds(tmp_path, warehouse):
    """mybinder.org's archive lines, every provider and version: none left to Python."""
    path = tmp_path / "events-2026-03-01.jsonl"
    archive_lines(path)
    result = load([path], warehouse)
    assert (result.loaded, result.undecided, result.rejected) == (27, 0, 0)


def test_in_large_files_the_python_path_gets_the_lines_sql_left(tmp_path, warehouse):
    """Lines the SQL leaves are found by their number in their file: in files DuckDB reads
    in parallel, over many row groups, the numbers still point at those lines (each is a
    launch Python keeps apart by its repository), and no other line is lost."""
    paths = []
    for day, odd in ((1, {0: 0, 123_457: 1, 200_001: 2}), (2, {2: 3, 99_999: 4})):
        when = f"2026-03-0{day}T12:34:00+00:00"
        lines = [
            json.dumps({**LINE, "timestamp": when, "spec": f"owner/repo{n % 997}/HEAD"})
            for n in range(200_000)
        ]
        for position, n in sorted(odd.items()):  # where, in the file as written
            lines.insert(
                position, json.dumps({**LINE, "timestamp": when, "spec": f"owner/odd{n}?x=1/HEAD"})
            )
        paths.append(tmp_path / f"events-2026-03-0{day}.jsonl")
        paths[-1].write_text("\n".join(lines) + "\n")
    result = load(paths, warehouse)
    assert (result.lines, result.loaded, result.undecided) == (400_005, 400_005, 5)
    with warehouse.session() as con:
        repos = con.execute(
            "SELECT repo FROM raw.launches WHERE starts_with(repo, 'owner/odd') ORDER BY 1"
        ).fetchall()
        [(plain,)] = con.execute(
            "SELECT count(*) FROM raw.launches WHERE starts_with(repo, 'owner/repo')"
        ).fetchall()
    assert [r for (r,) in repos] == [f"owner/odd{n}" for n in range(5)]
    assert plain == 400_000


def test_on_bigquery_lines_go_by_load_job_and_one_merge_replaces_live_days(tmp_path):
    """The REST side: the lines as they are by a load job, one query deciding them, the
    lines it left undecided by Python and a second load job, and the live days replaced
    with the archive's by one script: a DELETE and the MERGE that decides and gives ids.
    Every statement is judged by GoogleSQL's analyzer as it arrives."""
    path = tmp_path / "events-2026-03-01.jsonl"
    lines = day_file(path, 40)
    odd = json.dumps({**LINE, "spec": "owner%2Frepo/HEAD", "provider": "GitLab"})
    with path.open("a") as f:
        f.write(odd + "\n" + "not json\n")
    fake = FakeBigQuery()
    fake.made_by_setup("binder-prod", "binder_launches")
    summary_fields = [
        {"name": n, "type": t}
        for n, t in (("file", "STRING"), ("ordinal", "INTEGER"), ("day", "DATE"))
    ] + [{"name": "launches", "type": "INTEGER"}]
    file = str(path.resolve())
    # What BigQuery answers: lines 41 and 42 undecided, 40 launches decided on the day.
    summary_rows = [[file, "41", None, None], [file, "42", None, None]]
    fake.answers.append((summary_fields, [*summary_rows, [None, None, "2026-03-01", "40"]]))
    fake.answers.append(
        (
            [{"name": "day", "type": "DATE"}, {"name": "launches", "type": "INTEGER"}],
            [["2026-03-01", "7"]],
        )
    )
    fake.answers.append(([{"name": "added", "type": "INTEGER"}], [["41"]]))
    with RecordingServer(fake) as server:
        warehouse = open_warehouse(
            "bigquery://binder-prod/binder_launches", bigquery_api_url=server.url
        )
        result = load([path], warehouse, replace_live=True)
        warehouse.close()
    assert fake.refused == []
    assert (result.lines, result.loaded, result.undecided) == (42, 41, 2)
    assert (result.rejected, result.live) == (1, {date(2026, 3, 1): 7})
    assert fake.inserted == {}  # no streaming insert
    staged_lines, python_rows, errors = fake.loads
    assert staged_lines["configuration"]["load"]["sourceFormat"] == "NEWLINE_DELIMITED_JSON"
    assert staged_lines["rows"] == [
        {"file": file, "ordinal": n, "line": line}
        for n, line in enumerate([*lines, odd, "not json"], 1)
    ]
    [python_row] = python_rows["rows"]
    assert (python_row["file"], python_row["repo"], python_row["ref"]) == (
        file,
        "owner/repo",
        "HEAD",
    )
    assert [r["reason"][:24] for r in errors["rows"]] == ["line is not valid JSON: "]
    decide, live_days, count, script, error_merge = (q["query"] for q in fake.queries)
    assert "launch_errors" in error_merge
    assert "SAFE.PARSE_JSON(line)" in decide and "_staging_backfill_lines_" in decide
    assert "NOT STARTS_WITH(event_id, 'archive:')" in live_days
    assert count.startswith("SELECT COUNT(*) AS added FROM (\n")
    assert script.startswith("BEGIN TRANSACTION;\n")
    assert "DELETE FROM `binder-prod`.`binder_launches_raw`.launches" in script
    assert "MERGE `binder-prod.binder_launches_raw.launches` AS target" in script
    assert "_staging_backfill_python_" in script and "SAFE.PARSE_JSON(line)" in script
    assert "target.timestamp >= TIMESTAMP(@first)" in script
    assert script.endswith("COMMIT TRANSACTION;")
    sent = {p["name"]: p for p in fake.queries[3]["queryParameters"]}
    assert sent["days"]["parameterValue"] == {"arrayValues": [{"value": "2026-03-01"}]}
    assert {sent[n]["parameterValue"]["value"] for n in ("first", "last")} == {"2026-03-01"}
    assert sent["default_origin"]["parameterValue"]["value"] == "mybinder.org"


def test_a_file_without_a_launch_exits_1_in_one_line(tmp_path):
    import subprocess
    import sys

    readme = Path(__file__).resolve().parent.parent / "README.md"
    result = subprocess.run(
        [sys.executable, "-m", "binderops.local.cli", "backfill", "-q", str(readme)],
        capture_output=True,
        text=True,
        env={
            **__import__("os").environ,
            "BINDEROPS_WAREHOUSE": f"duckdb://{tmp_path / 'w.duckdb'}",
        },
        timeout=120,
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"binderops backfill: no launch in {readme} (")
    assert "rejected; the first: line is not valid JSON" in line


def test_readme_step_4_names_files_the_stack_publishes_and_says_what_it_skipped(tmp_path):
    """The README's backfill step, run as written in a folder where the stack published its
    archive: the files exist, and their days (ingested live) are skipped, each said so."""
    import glob
    import os
    import re
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    [command] = re.findall(r"4\. `(binderops backfill [^`]+)`", readme)
    state = tmp_path / ".binderops"
    env = {**os.environ, "BINDEROPS_STATE_DIR": str(state)}
    env.pop("BINDEROPS_WAREHOUSE", None)
    warehouse = open_warehouse(f"duckdb://{state / 'warehouse.duckdb'}")
    warehouse.setup()
    warehouse.insert("launches", [to_row(LINE, f"198194701{n:07d}", NOW, "") for n in range(3)])
    warehouse.close()
    subprocess.run(
        [sys.executable, "-m", "binderops.local.cli", "publish"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    args = command.split()[1:]
    files = [f for a in args[1:] for f in glob.glob(a, root_dir=tmp_path)]
    assert files == [".binderops/public/events-2026-03-01.jsonl"]
    result = subprocess.run(
        [sys.executable, "-m", "binderops.local.cli", args[0], "-q", *files],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "0 new launches on 0 day(s), 3 on skipped days" in result.stdout
    assert "2026-03-01: skipped, holds 3 launches ingested live" in result.stdout


class EvaluatedBigQuery:
    """The BigQuery warehouse's seam for the staged backfill (staging tables, queries, the
    MERGE), answered by ZetaSQL's reference evaluator, GoogleSQL's own semantics, over
    tables held here. The REST side of the same calls is tested against the fake BigQuery
    (below); this holds what the SQL decides."""

    def __init__(self) -> None:
        self.names = {"public": "`p`.`d`", "raw": "`p`.`d_raw`"}
        self.types = schemas.read_json("sql/parameters.json")["parameters"]
        self.tables: dict[str, tuple[list[dict], list[tuple]]] = {}
        self.launches: dict[str, tuple] = {}
        self.errors: dict[str, tuple] = {}

    @staticmethod
    def _fields(spec: schemas.Table) -> list[dict]:
        return [{"name": c.name, "type": c.type, "mode": c.mode} for c in spec.columns]

    @contextmanager
    def staged(self, spec: schemas.Table, source):
        name = f"staging_{len(self.tables)}"
        if isinstance(source, Path):
            found = [json.loads(line) for line in source.read_text().splitlines()]
            source = [tuple(r[c] for c in spec.column_names) for r in found]
        self.tables[name] = (self._fields(spec), list(source))
        try:
            yield name
        finally:
            del self.tables[name]

    def _evaluate(self, sql: str, params, named: bool = False) -> list:
        from googlesql import evaluate, judge

        spec = schemas.table("launches")
        tables = {**self.tables, "launches": (self._fields(spec), list(self.launches.values()))}
        typed = {name: (self.types[name], value) for name, value in (params or {}).items()}
        return evaluate(judge(), sql.replace("`p`.`d_raw`.", ""), tables, typed, named)

    def query(self, sql: str, params=None) -> list[dict]:
        return self._evaluate(sql, params, named=True)

    def merge(self, table, source, params, *, first="", within="") -> int:
        """MERGE … WHEN NOT MATCHED THEN INSERT ROW: the rows of ``source`` with a new key."""
        assert table == "launches" and not first and within == staged.WITHIN
        stored = set(self.launches)
        added = 0
        for row in self._evaluate(source, params):
            if row[0] not in stored:
                # BigQuery would insert a source row that repeats an id a second time.
                assert row[0] not in self.launches, f"the MERGE inserts {row[0]} twice"
                self.launches[row[0]] = row
                added += 1
        return added

    def load(self, table: str, rows) -> int:
        assert table == "launch_errors"
        for row in rows:
            self.errors.setdefault(row[0], row)
        return len(rows)


@settings(
    max_examples=int(__import__("os").environ.get("BF_STAGED_EXAMPLES", 25)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(files=archives())
def test_on_bigquery_googlesql_gives_what_the_python_path_gives(two_warehouses, files):
    """The lines staged as BigQuery stages them, decided by the generated GoogleSQL as
    GoogleSQL's reference evaluator runs it, the rest by Python, ids given in the MERGE's
    source: every provider, version, malformed kind and wrapper gives the Python path's
    rows, error rows and ids."""
    from binderops.launches.backfill import BackfillResult, Loader

    folder, (_, slow) = two_warehouses
    paths = write(folder, files)
    with slow.session() as con:
        con.execute("DELETE FROM raw.launches")
        con.execute("DELETE FROM raw.launch_errors")
    expected = load(paths, slow, native=False)

    bigquery = EvaluatedBigQuery()
    result = BackfillResult(paths=paths)
    loader = Loader(bigquery, result, replace_live=False)
    staged.load_staged(paths, bigquery, loader, NOW, "mybinder.org", lambda n: None)
    got = (result.lines, result.loaded, result.rejected, result.first_reason)
    assert got == (expected.lines, expected.loaded, expected.rejected, expected.first_reason)
    assert sorted(bigquery.launches.values(), key=repr) == table(slow)
    assert sorted(bigquery.errors.values(), key=repr) == table(slow, "launch_errors")


def test_on_bigquery_googlesql_decides_what_the_archive_holds(tmp_path, warehouse):
    """mybinder.org's archive lines, every provider and version: none left to Python, and
    the rows and ids the Python path gives."""
    from binderops.launches.backfill import BackfillResult, Loader

    path = (tmp_path / "events-2026-03-01.jsonl").resolve()
    archive_lines(path)
    expected = load([path], warehouse, native=False)
    bigquery = EvaluatedBigQuery()
    result = BackfillResult(paths=[path])
    loader = Loader(bigquery, result, replace_live=False)
    staged.load_staged([path], bigquery, loader, NOW, "mybinder.org", lambda n: None)
    assert (
        (result.loaded, result.undecided, result.rejected)
        == (27, 0, 0)
        == (
            expected.loaded,
            0,
            expected.rejected,
        )
    )
    assert sorted(bigquery.launches.values(), key=repr) == table(warehouse)


def test_on_bigquery_copies_in_one_run_count_each_launch_once(tmp_path, warehouse):
    """The MERGE's source gives each id once however many files of the batch hold it."""
    from binderops.launches.backfill import BackfillResult, Loader

    paths = copies_in_one_run(tmp_path, 40)
    expected = load(paths, warehouse, native=False)
    bigquery = EvaluatedBigQuery()
    result = BackfillResult(paths=paths)
    loader = Loader(bigquery, result, replace_live=False)
    staged.load_staged(paths, bigquery, loader, NOW, "mybinder.org", lambda n: None)
    assert (result.lines, result.loaded) == (expected.lines, expected.loaded) == (175, 95)
    assert sorted(bigquery.launches.values(), key=repr) == table(warehouse)


def test_on_bigquery_a_live_day_is_skipped_and_the_others_loaded(tmp_path):
    """A day that holds a launch ingested live keeps it and gets none of the archive's (the
    MERGE leaves it out by ``@skip``); the next day loads."""
    from binderops.launches.backfill import BackfillResult, Loader

    first, second = tmp_path / "events-2026-03-01.jsonl", tmp_path / "events-2026-03-02.jsonl"
    day_file(first, 6)
    day_file(second, 4, day="2026-03-02", seed=2)
    bigquery = EvaluatedBigQuery()
    live = to_row({**LINE, "spec": "owner/live/HEAD"}, "live-message-1", NOW, "mybinder.org")
    bigquery.launches[live.event_id] = tuple(live)
    paths = [first.resolve(), second.resolve()]
    result = BackfillResult(paths=paths)
    loader = Loader(bigquery, result, replace_live=False)
    staged.load_staged(paths, bigquery, loader, NOW, "mybinder.org", lambda n: None)
    assert (result.loaded, result.skipped, result.live) == (4, 6, {date(2026, 3, 1): 1})
    days = {row[1].date() for row in bigquery.launches.values() if row[0] != live.event_id}
    assert days == {date(2026, 3, 2)}
