"""The BigQuery backend, driven through the real google-cloud-bigquery client over loopback HTTP."""

from datetime import UTC, datetime

import pytest
from fakes.bigquery import FakeBigQuery
from fakes.http import RecordingServer

from binderops.warehouse import open_warehouse, schemas
from binderops.warehouse.base import WarehouseUnavailable

NOW = datetime(2026, 3, 1, 12, 34, 56, 789000, tzinfo=UTC)


def launch_row(event_id: str) -> tuple:
    minute = NOW.replace(second=0, microsecond=0)
    return (
        event_id,
        minute,
        6,
        "GitHub",
        "a/b/HEAD",
        "a/b",
        "HEAD",
        "abc",
        "success",
        "gke.mybinder.org",
        False,
        "same-origin",
        NOW,
    )


@pytest.fixture
def bigquery():
    fake = FakeBigQuery()
    fake.made_by_setup("binder-prod", "binder_launches")  # what the statements read
    with RecordingServer(fake) as server:
        warehouse = open_warehouse(
            "bigquery://binder-prod/binder_launches", bigquery_api_url=server.url
        )
        yield fake, server, warehouse
        warehouse.close()


def test_setup_creates_partitioned_clustered_tables_and_views_from_schemas(bigquery):
    fake, _, warehouse = bigquery
    warehouse.setup()

    assert set(fake.datasets) == {"binder-prod.binder_launches", "binder-prod.binder_launches_raw"}
    launches = fake.tables["binder-prod.binder_launches_raw.launches"]
    expected = schemas.read_json("bigquery/launches.json")
    assert [(f["name"], f["type"], f["mode"]) for f in launches["schema"]["fields"]] == [
        (f["name"], f["type"], f["mode"]) for f in expected
    ]
    assert launches["timePartitioning"] == {"type": "DAY", "field": "timestamp"}
    assert launches["clustering"] == {"fields": ["origin", "provider", "repo"]}
    errors = fake.tables["binder-prod.binder_launches_raw.launch_errors"]
    assert errors["timePartitioning"]["field"] == "received_at"
    view = fake.tables["binder-prod.binder_launches.launches"]["view"]
    assert view["useLegacySql"] is False
    assert "FROM `binder-prod`.`binder_launches_raw`.launches" in view["query"]
    assert "QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id" in view["query"]
    daily = fake.tables["binder-prod.binder_launches.launches_daily"]["view"]["query"]
    assert (
        "COUNT(DISTINCT event_id)" in daily
        and "FROM `binder-prod`.`binder_launches_raw`.launches" in daily
    )


def test_streamed_rows_carry_event_id_as_insert_id(bigquery):
    fake, server, warehouse = bigquery
    warehouse.insert("launches", [launch_row("e-1"), launch_row("e-2")])

    rows = fake.inserted["binder-prod.binder_launches_raw.launches"]
    assert [r["insertId"] for r in rows] == ["e-1", "e-2"]
    assert rows[0]["json"] == {
        "event_id": "e-1",
        "timestamp": "2026-03-01T12:34:00+00:00",
        "schema_version": 6,
        "provider": "GitHub",
        "spec": "a/b/HEAD",
        "repo": "a/b",
        "ref": "HEAD",
        "resolved_ref": "abc",
        "status": "success",
        "origin": "gke.mybinder.org",
        "build_token": False,
        "request_origin": "same-origin",
        "ingested_at": "2026-03-01T12:34:56.789000+00:00",
    }
    request = server.requests[-1]
    assert request.method == "POST"
    assert (
        request.path
        == "/bigquery/v2/projects/binder-prod/datasets/binder_launches_raw/tables/launches/insertAll"
    )


def test_bulk_load_goes_through_a_free_load_job_and_a_merge_on_the_key(bigquery):
    fake, _, warehouse = bigquery
    fake.dml_affected = "2"
    added = warehouse.load("launches", [launch_row("f:1"), launch_row("f:2")])

    assert added == 2
    (load,) = fake.loads
    config = load["configuration"]["load"]
    staging = config["destinationTable"]
    assert staging["datasetId"] == "binder_launches_raw" and staging["tableId"].startswith(
        "_staging_launches_"
    )
    assert config["sourceFormat"] == "NEWLINE_DELIMITED_JSON"
    assert config["writeDisposition"] == "WRITE_TRUNCATE"
    assert [f["name"] for f in config["schema"]["fields"]] == list(
        schemas.table("launches").column_names
    )
    assert [r["event_id"] for r in load["rows"]] == ["f:1", "f:2"]
    merge = fake.queries[-1]["query"]
    assert merge.startswith("MERGE `binder-prod.binder_launches_raw.launches` AS target USING")
    assert "ON target.event_id = source.event_id WHEN NOT MATCHED THEN INSERT ROW" in merge
    assert fake.deleted == [f"binder-prod.binder_launches_raw.{staging['tableId']}"]


def test_query_runs_in_the_public_dataset_and_returns_typed_rows(bigquery):
    fake, _, warehouse = bigquery
    fake.answers.append(
        (
            [
                {"name": "day", "type": "DATE"},
                {"name": "provider", "type": "STRING"},
                {"name": "launches", "type": "INTEGER"},
            ],
            [["2026-03-01", "GitHub", "1613"], ["2026-03-01", "Gist", "87"]],
        )
    )
    rows = warehouse.query(
        "SELECT day, provider, SUM(launches) AS launches FROM launches_daily GROUP BY 1, 2"
    )

    assert rows == [
        {"day": datetime(2026, 3, 1).date(), "provider": "GitHub", "launches": 1613},
        {"day": datetime(2026, 3, 1).date(), "provider": "Gist", "launches": 87},
    ]
    sent = fake.queries[-1]
    assert sent["query"].startswith("SELECT day, provider")
    assert sent["useLegacySql"] is False
    assert sent["defaultDataset"] == {"projectId": "binder-prod", "datasetId": "binder_launches"}


def test_a_query_that_fails_on_bigquery_side_asks_for_a_retry(bigquery):
    """Once the client has stopped retrying (it does not retry this reason), a server error
    is a WarehouseUnavailable: an HTTP function answers 503, a CloudEvent is redelivered."""
    fake, _, warehouse = bigquery
    fake.query_errors.append((503, "notRetriedByTheClient"))
    with pytest.raises(WarehouseUnavailable, match="BigQuery query failed"):
        warehouse.query("SELECT 1")


def test_loopback_endpoint_sends_no_credentials(bigquery):
    _, server, warehouse = bigquery
    warehouse.insert("launch_errors", [("bad-1", NOW, "message data is not valid base64", "%%%")])
    assert "authorization" not in server.requests[-1].headers


def test_opened_read_only_bigquery_runs_only_what_it_classifies_as_select():
    """BigQuery classifies the statement in a dry run (free); only a SELECT then runs."""
    from binderops.warehouse.sql import ReadOnly

    fake = FakeBigQuery()
    fake.made_by_setup("binder-prod", "binder_launches")
    with RecordingServer(fake) as server:
        warehouse = open_warehouse(
            "bigquery://binder-prod/binder_launches", server.url, read_only=True
        )
        fake.statement_types = ["DELETE"]
        sneaky = "SELECT 1; DELETE FROM binder_launches_raw.launches WHERE TRUE"
        with pytest.raises(ReadOnly, match="BigQuery reports this statement as DELETE"):
            warehouse.query(sneaky)
        assert fake.queries == []  # refused before any job ran
        fake.answers = [([{"name": "n", "type": "INTEGER"}], [["7"]])]
        assert warehouse.query("SELECT COUNT(*) AS n FROM launches") == [{"n": 7}]
        assert [q["query"] for q in fake.dry_runs] == [sneaky, "SELECT COUNT(*) AS n FROM launches"]
        warehouse.close()
