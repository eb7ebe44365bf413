"""The SQL binderops sends to BigQuery, judged by GoogleSQL's own analyzer (``googlesql``).

Every view and every file of ``schemas/sql`` is analysed here as the BigQuery warehouse
renders it, against the tables of ``schemas/catalog.json`` (and the billing export's), with
the parameter types of ``schemas/sql/parameters.json``. Every statement the warehouse sends
in the other tests (merges, scripts, exports, queries with their parameters as the client
types them) is judged by the fake BigQuery that receives it (``fakes/bigquery.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fakes.bigquery import FakeBigQuery
from googlesql import evaluate, judge

from binderops.warehouse import schemas

PROJECT, DATASET = "binder-prod", "binder_launches"
NAMES = {"raw": f"`{PROJECT}`.`{DATASET}_raw`", "public": f"`{PROJECT}`.`{DATASET}`"}
BILLING = f"{PROJECT}.billing.gcp_billing_export_v1_000000_000000_000000"
SQL = schemas.schemas_dir() / "sql"
FILES = sorted(p.relative_to(SQL).with_suffix("").as_posix() for p in SQL.rglob("*.sql"))
# What each file's caller puts in its other ${names}.
CALLER_NAMES = {"billing": f"`{BILLING}`", "ids": "'m-1', 'm-2'"}


@pytest.fixture(scope="module")
def tables() -> dict[str, list]:
    """Every table and view BigQuery holds once setup ran, and the billing export."""
    fake = FakeBigQuery()
    fake.made_by_setup(PROJECT, DATASET)
    fake.external(BILLING, schemas.read_json("bigquery/billing_export.json"), partitioned=True)
    return fake.columns


def parameters(sql: str) -> list[dict]:
    """The file's parameters, typed as ``schemas/sql/parameters.json`` declares them."""
    declared = schemas.read_json("sql/parameters.json")["parameters"]
    named = sorted(set(re.findall(r"@(\w+)", re.sub(r"--.*", "", sql))))
    return [{"name": n, "parameterType": rest_type(declared[n])} for n in named if n in declared]


def rest_type(declared: str) -> dict:
    """A REST ``parameterType`` from a declared type (``DATE``, ``ARRAY<DATE>``)."""
    if declared.startswith("ARRAY<"):
        return {"type": "ARRAY", "arrayType": rest_type(declared[6:-1])}
    return {"type": declared}


def rendered(name: str, text: str | None = None) -> str:
    from binderops.core.templates import render_text

    return render_text(text or schemas.sql(name), **NAMES, **CALLER_NAMES)


@pytest.mark.parametrize("name", FILES)
def test_every_sql_file_is_valid_googlesql(tables, name):
    sql = rendered(name)
    assert judge().problems(sql, tables, parameters(sql), f"{PROJECT}.{DATASET}") == []


def test_every_view_is_valid_googlesql_and_declares_its_columns(tables):
    """made_by_setup analysed each view (it would have raised); their columns are the
    README's, in order."""
    _, views = schemas.catalog()
    for view in views.values():
        columns = tables[f"{PROJECT}.{DATASET}.{view.name}"]
        assert columns and all(isinstance(c, tuple) for c in columns)


@pytest.mark.parametrize(
    ("name", "old", "new", "says"),
    [
        ("launches_daily", "COUNT(DISTINCT event_id)", "COUNT(DISTINCT launch_id)", "launch_id"),
        ("launches_daily", "DATE(timestamp)", "EPOCH_MS(timestamp)", "Function not found"),
        ("launches", "WHERE TRUE\n", "", "QUALIFY clause must be used"),
        ("badge_counts", "@today", "@today_utc", "today_utc"),
    ],
)
def test_a_broken_copy_of_a_sql_file_fails_the_check(tables, name, old, new, says):
    text = schemas.sql(name)
    assert old in text
    broken = rendered(name, text.replace(old, new))
    [problem] = judge().problems(broken, tables, parameters(broken), f"{PROJECT}.{DATASET}")
    assert says in problem


def test_every_parameter_in_the_sql_files_is_declared():
    """The files' parameters and those of the statements generated from the schemas (the
    backfill's on BigQuery): each declared, and nothing declared that none uses."""
    from binderops.launches import staged

    declared = set(schemas.read_json("sql/parameters.json")["parameters"])
    texts = [schemas.sql(name) for name in FILES]
    texts += [staged.summary_sql("lines"), staged.source_sql("lines", "python", True)]
    texts += [staged.WITHIN]
    used = {n for text in texts for n in re.findall(r"@(\w+)", re.sub(r"--.*", "", text))}
    assert used == declared


def test_the_fake_bigquery_refuses_a_parameter_typed_otherwise_than_declared():
    import requests
    from fakes.http import RecordingServer

    fake = FakeBigQuery()
    fake.made_by_setup(PROJECT, DATASET)
    body = {
        "query": "SELECT COUNT(*) AS n FROM launches_daily WHERE day >= @first",
        "useLegacySql": False,
        "defaultDataset": {"projectId": PROJECT, "datasetId": DATASET},
        "queryParameters": [
            {"name": "first", "parameterType": {"type": "TIMESTAMP"}, "parameterValue": {}}
        ],
    }
    with RecordingServer(fake) as server:
        response = requests.post(f"{server.url}/bigquery/v2/projects/{PROJECT}/queries", json=body)
    assert response.status_code == 400 and "declares DATE" in response.text
    assert Path(schemas.schemas_dir() / "sql" / "parameters.json").exists()


# The views the public reads: GoogleSQL's reference evaluator and DuckDB, on the same rows
from datetime import UTC, datetime, timedelta  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

MOMENTS = st.integers(min_value=0, max_value=3 * 86400 * 10**6).map(
    lambda us: datetime(2026, 3, 1, tzinfo=UTC) + timedelta(microseconds=us)
)
WORDS = st.sampled_from(["gke", "ovh", "GitHub", "a/b", "x y", "é", ""])


def value(column: schemas.Column, key: str):
    """A strategy for one column's values (NULL where the column allows it)."""
    kinds = {
        "STRING": WORDS,
        "TIMESTAMP": MOMENTS,
        "INT64": st.integers(min_value=-5, max_value=5),
        "INTEGER": st.integers(min_value=-5, max_value=5),
        "BOOL": st.booleans(),
        "BOOLEAN": st.booleans(),
        "FLOAT64": st.floats(min_value=0, max_value=1e4, allow_nan=False),
        "FLOAT": st.floats(min_value=0, max_value=1e4, allow_nan=False),
    }
    if column.name == key:
        return st.uuids().map(str)
    base = kinds[column.type]
    return base if column.mode == "REQUIRED" else st.none() | base


def raw_rows(table: str):
    spec = schemas.table(table)
    row = st.tuples(*(value(c, spec.key or "") for c in spec.columns))
    return st.lists(row, max_size=25, unique_by=lambda r: r[spec.column_names.index(spec.key)])


VIEWS = {"launches": "launches", "launches_daily": "launches", "deployments": "deployments"}


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_public_views_answer_on_duckdb_as_googlesql_evaluates_them(tmp_path_factory, data):
    from binderops.core.templates import render_text
    from binderops.warehouse import open_warehouse

    name = data.draw(st.sampled_from(sorted(VIEWS)))
    table = VIEWS[name]
    rows = data.draw(raw_rows(table))
    warehouse = open_warehouse(f"duckdb://{tmp_path_factory.mktemp('v') / 'w.duckdb'}")
    try:
        warehouse.insert(table, rows)
        on_duckdb = warehouse.query(f"SELECT * FROM {name}")
    finally:
        warehouse.close()
    sql = render_text(schemas.sql(name), raw="raw_dataset", public="public")
    fields = schemas.read_json(f"bigquery/{table}.json")
    evaluated = evaluate(judge(), sql.replace("raw_dataset.", ""), {table: (fields, rows)})
    assert sorted(map(plain, evaluated)) == sorted(plain(tuple(r.values())) for r in on_duckdb)


def plain(row: tuple) -> str:
    """A row as comparable text: times in UTC ISO form, whichever library's zone object."""
    return repr(tuple(v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v for v in row))
