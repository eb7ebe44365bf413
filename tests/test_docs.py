"""The docs say what the code does: every setting, every public column."""

import re
from pathlib import Path

from conftest import settings_classes

from binderops.core import config

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings_classes()


def test_every_variable_the_settings_read_is_in_the_operators_table():
    table = (ROOT / "docs" / "operators.md").read_text()
    documented = set(re.findall(r"`((?:BINDEROPS_|K_)[A-Z_]+)`", table))
    read = {name for kind in SETTINGS for name in config.variables(kind)}
    assert read - documented == set()


def test_no_variable_is_read_by_two_settings_classes():
    """Each default is written once: one variable, one field."""
    names = [name for kind in SETTINGS for name in config.variables(kind)]
    assert len(names) == len(set(names))


def test_the_readme_lists_each_public_view_with_its_columns(warehouse):
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_.]+)`(?: \(private\))? \| ([a-z_, ]+) \|$", readme, re.M))
    assert len(readme.encode()) < 10 * 1024, "a newcomer reads the README in three minutes"
    with warehouse.session() as con:
        for name, columns in rows.items():
            schema, _, table = name.rpartition(".")
            described = con.execute(f'DESCRIBE {schema or "main"}."{table}"').fetchall()
            assert columns.split(", ") == [r[0] for r in described], name
    assert {"launches", "launches_daily", "deployments", "incidents", "cloud_costs_daily"} <= set(
        rows
    )


def test_docs_links_in_the_readme_lead_somewhere():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if "://" not in target:  # a file of this repository, not the badge example's URL
            assert (ROOT / target).exists(), target


def test_every_query_in_docs_queries_runs_through_binderops_query(tmp_path):
    """docs/queries.md: each SQL block, unchanged, returns rows through the real command over
    a local warehouse holding this week's launches and costs."""
    import json
    import os
    import random
    import subprocess
    import sys
    from datetime import UTC, datetime, timedelta

    from binderops.costs import export
    from binderops.launches.backfill import backfill
    from binderops.local import billing_sample
    from binderops.local.samples import launch_event
    from binderops.warehouse import open_warehouse

    url = f"duckdb://{tmp_path / 'w.duckdb'}"
    warehouse = open_warehouse(url)
    warehouse.setup()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rng = random.Random(3)
    archive = tmp_path / "events.jsonl"
    with open(archive, "w") as f:
        for n in range(600):
            event = launch_event(rng, now - timedelta(minutes=13 * n), version=6)
            f.write(json.dumps(event) + "\n")
    backfill([archive], warehouse, "mybinder.org")
    with warehouse.session() as con:
        billing_sample.load_rows(con, "billing", billing_sample.sample_rows(now.date(), days=7))
    window = export.Window(now.date() - timedelta(days=6), now.date())
    export.export(warehouse, "billing", "UTC", window, [])
    warehouse.close()

    page = (ROOT / "docs" / "queries.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", page, re.S)
    assert len(queries) == 5
    for sql in queries:
        result = subprocess.run(
            [sys.executable, "-m", "binderops.local.cli", "query", "--format", "json", sql],
            capture_output=True,
            text=True,
            env={**os.environ, "BINDEROPS_WAREHOUSE": url},
            timeout=120,
        )
        assert result.returncode == 0, (sql, result.stderr)
        assert json.loads(result.stdout), f"no rows from:\n{sql}"


def test_the_duckdb_snippets_in_docs_queries_read_the_published_files(tmp_path, monkeypatch):
    """Each ``duckdb.sql("…")`` in docs/queries.md returns rows from a folder holding what
    the cost export and the archive publish."""
    import random
    from datetime import UTC, date, datetime, timedelta

    import duckdb

    from binderops.core.config import Settings, read
    from binderops.costs import export
    from binderops.launches import archive
    from binderops.launches.events import to_row
    from binderops.local import billing_sample
    from binderops.local.samples import launch_event
    from binderops.warehouse import open_warehouse

    warehouse = open_warehouse(f"duckdb://{tmp_path / 'w.duckdb'}")
    warehouse.setup()
    with warehouse.session() as con:
        billing_sample.load_rows(
            con, "billing", billing_sample.sample_rows(date(2026, 3, 9), days=3)
        )
    export.export(
        warehouse, "billing", "UTC", export.Window(date(2026, 3, 7), date(2026, 3, 9)), []
    )
    detail = export.published_costs(
        warehouse, "UTC", "USD", date.today() + timedelta(days=1)
    ).detail
    public = tmp_path / "public"
    public.mkdir()
    (public / "cloud-costs-detail.jsonl").write_bytes(detail)
    rng, start = random.Random(5), datetime(2026, 3, 1, tzinfo=UTC)
    ingested = datetime(2026, 3, 9, tzinfo=UTC)
    launches = [
        to_row(launch_event(rng, start + timedelta(minutes=37 * n)), f"d{n}", ingested, "x")
        for n in range(200)
    ]
    warehouse.load("launches", launches)
    settings = read(Settings, {"BINDEROPS_PUBLIC_DIR": str(public)})
    archive.publish(warehouse, settings, {}, date(2026, 3, 10))
    warehouse.close()

    page = (ROOT / "docs" / "queries.md").read_text()
    statements = re.findall(r'duckdb\.sql\(\s*"(.*?)"\s*\)', page)
    assert len(statements) == 4
    monkeypatch.chdir(public)
    for statement in statements:
        assert duckdb.sql(statement).fetchall(), statement
    cost_rows = duckdb.sql(statements[0]).fetchall()
    assert len(cost_rows) == 6  # 3 days x (USD, EUR) from the billing export
    launches_by_provider = duckdb.sql(statements[1]).fetchall()
    assert sum(n for _, n in launches_by_provider) == 200


def test_the_variables_passed_to_builds_are_the_ones_operators_md_lists():
    from binderops.deploys.localbuild import BUILD_VARIABLES

    text = (ROOT / "docs" / "operators.md").read_text()
    section = text.split("### What a local deploy command sees", 1)[1]
    passed = section.split("Passed to builds:", 1)[1].split("; the deploy's facts", 1)[0]
    assert tuple(re.findall(r"`([A-Z_]+)`", passed)) == BUILD_VARIABLES


def test_this_week_in_docs_queries_is_the_last_seven_complete_days(warehouse):
    from datetime import UTC, datetime, timedelta

    from binderops.launches.events import to_row

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    event = {"timestamp": "", "version": 6, "provider": "GitHub", "spec": "a/b/HEAD"}
    rows = [
        to_row({**event, "timestamp": (now - timedelta(days=n)).isoformat()}, f"e{n}", now, "x")
        for n in range(9)  # today and the eight days before
    ]
    warehouse.insert("launches", rows)
    page = (ROOT / "docs" / "queries.md").read_text()
    [sql] = re.findall(r"## Top repositories this week.*?```sql\n(.*?)```", page, re.S)
    [row] = warehouse.query(sql)
    assert row["launches"] == 7  # not today's, not the eighth day's


def test_the_dashboard_dates_launches_by_the_newest_launch_not_the_newest_write(warehouse):
    from datetime import UTC, datetime

    from binderops.launches.events import to_row
    from binderops.warehouse import schemas

    event = {"timestamp": "2025-01-02T03:04:05Z", "version": 6, "provider": "GitHub"}
    warehouse.insert("launches", [to_row(event, "old", datetime.now(UTC), "x")])
    rows = warehouse.query(schemas.sql_in("dashboard/datasets", warehouse.names))
    [launches] = [r for r in rows if r["dataset"] == "launches"]
    assert str(launches["updated"]).startswith("2025-01-02 03:04")
