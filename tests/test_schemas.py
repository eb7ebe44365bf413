"""schemas/ is the single source of truth: well-formed, and what code and Terraform read."""

import re
from pathlib import Path

import jsonschema
import pytest

from binderops.warehouse import schemas, sql

ROOT = Path(__file__).resolve().parent.parent
ADDED = {1: set(), 2: set(), 3: {"origin"}, 4: {"ref"}, 5: {"build_token"}, 6: {"request_origin"}}
BASE = {"timestamp", "schema", "version", "provider", "spec", "status"}


@pytest.mark.parametrize("version", range(1, 7))
def test_each_launch_schema_version_has_exactly_its_fields(version):
    schema = schemas.launch_event_schemas()[version]
    jsonschema.Draft7Validator.check_schema(schema)
    expected = set(BASE)
    for v in range(1, version + 1):
        expected |= ADDED[v]
    assert set(schema["properties"]) == expected
    assert schema["properties"]["version"] == {"const": version}
    assert schema["properties"]["provider"]["enum"] == [
        "GitHub",
        "Gist",
        "GitLab",
        "Git",
        "Zenodo",
        "Figshare",
        "Hydroshare",
        "Dataverse",
        "CKAN",
    ]
    assert schema["properties"]["status"]["enum"] == ["success", "failure"]


def test_launches_table_has_the_published_columns():
    fields = [
        (f["name"], f["type"], f["mode"]) for f in schemas.read_json("bigquery/launches.json")
    ]
    assert fields == [
        ("event_id", "STRING", "REQUIRED"),
        ("timestamp", "TIMESTAMP", "REQUIRED"),
        ("schema_version", "INT64", "NULLABLE"),
        ("provider", "STRING", "NULLABLE"),
        ("spec", "STRING", "NULLABLE"),
        ("repo", "STRING", "NULLABLE"),
        ("ref", "STRING", "NULLABLE"),
        ("resolved_ref", "STRING", "NULLABLE"),
        ("status", "STRING", "NULLABLE"),
        ("origin", "STRING", "NULLABLE"),
        ("build_token", "BOOL", "NULLABLE"),
        ("request_origin", "STRING", "NULLABLE"),
        ("ingested_at", "TIMESTAMP", "NULLABLE"),
    ]
    assert [f["name"] for f in schemas.read_json("bigquery/launch_errors.json")] == [
        "event_id",
        "received_at",
        "reason",
        "payload",
    ]


def test_every_view_translates_to_duckdb():
    _, views = schemas.catalog()
    for view in views.values():
        assert sql.to_duckdb(view.render({"raw": "raw", "public": "main"}))


def test_terraform_builds_tables_and_views_from_the_catalog():
    main_tf = (ROOT / "terraform" / "main.tf").read_text()
    assert 'jsondecode(file("${local.schemas}/catalog.json"))' in main_tf
    for resource in ('google_bigquery_table" "tables', 'google_bigquery_table" "views'):
        assert resource in main_tf
    # No table or column name is repeated by hand in Terraform.
    for column in ("resolved_ref", "request_origin", "build_token"):
        assert not re.search(rf"\b{column}\b", main_tf)


def test_public_read_is_granted_on_the_public_dataset_only():
    main_tf = (ROOT / "terraform" / "main.tf").read_text()
    grants = re.findall(
        r'resource "google_bigquery_dataset_iam_member" "(\w+)" \{(.*?)\n\}', main_tf, re.S
    )
    public = [(name, body) for name, body in grants if "allAuthenticatedUsers" in body]
    assert len(public) == 1
    assert "google_bigquery_dataset.public.dataset_id" in public[0][1]
    assert "roles/bigquery.dataViewer" in public[0][1]


def test_export_costs_may_read_the_billing_export_and_write_the_cost_table_only():
    tf = "\n".join(p.read_text() for p in (ROOT / "terraform").glob("*.tf"))
    grants = re.findall(r'resource "(google_\w+_iam_member)" "(\w+)" \{(.*?)\n\}', tf, re.S)
    export_costs = sorted(
        (kind, re.search(r'role\s+= "([^"]+)"', body)[1])
        for kind, _, body in grants
        if "google_service_account.export_costs.email" in body
    )
    assert export_costs == [
        (
            "google_bigquery_dataset_iam_member",
            "roles/bigquery.dataViewer",
        ),  # the billing export dataset
        ("google_bigquery_table_iam_member", "roles/bigquery.dataEditor"),  # cloud_costs_daily
        ("google_bigquery_table_iam_member", "roles/bigquery.dataEditor"),  # federation_members
        ("google_bigquery_table_iam_member", "roles/bigquery.dataViewer"),  # launches_daily
        ("google_project_iam_member", "roles/bigquery.jobUser"),  # to run queries at all
        ("google_storage_bucket_iam_member", "roles/storage.objectUser"),  # the public bucket
    ]
    billing = re.search(r'"export_costs_reads_billing" \{(.*?)\n\}', tf, re.S)[1]
    assert "dataset_id = local.billing_dataset" in billing
    table = re.search(r'"export_costs_writes_costs" \{(.*?)\n\}', tf, re.S)[1]
    assert 'google_bigquery_table.tables["cloud_costs_daily"].table_id' in table
    register = re.search(r'"export_costs_writes_register" \{(.*?)\n\}', tf, re.S)[1]
    assert 'google_bigquery_table.tables["federation_members"].table_id' in register
    view = re.search(r'"export_costs_reads_launches_daily" \{(.*?)\n\}', tf, re.S)[1]
    assert 'google_bigquery_table.views["launches_daily"].table_id' in view


def row_types():
    from binderops.costs.export import CostRow, MemberRow
    from binderops.deploys.deployer import DeploymentRow
    from binderops.federation.rounds import ProbeRow
    from binderops.incidents.notifier import IncidentRow
    from binderops.launches.events import LaunchErrorRow, LaunchRow
    from binderops.metrics.sinks import MetricRow

    return {
        "launches": LaunchRow,
        "launch_errors": LaunchErrorRow,
        "deployments": DeploymentRow,
        "cloud_costs_daily": CostRow,
        "federation_members": MemberRow,
        "member_probes": ProbeRow,
        "incident_notifications": IncidentRow,
        "metrics": MetricRow,
    }


# Tables whose rows are computed by the warehouse (Warehouse.refresh), never built in Python.
COMPUTED_IN_SQL = {"repo_launches_daily"}


def test_every_table_has_a_typed_row_with_its_schemas_columns_in_order():
    tables, _ = schemas.catalog()
    types = row_types()
    assert set(types) == set(tables) - COMPUTED_IN_SQL
    for name, row in types.items():
        assert row._fields == tables[name].column_names, name


def test_a_rows_field_types_follow_its_column_types():
    python = {"STRING": "str", "TIMESTAMP": "datetime", "INT64": "int", "BOOL": "bool"}
    python |= {"DATE": "date", "FLOAT": "float", "FLOAT64": "float"}
    for name, row in row_types().items():
        for column in schemas.table(name).columns:
            annotation = row.__annotations__[column.name]
            annotation = getattr(annotation, "__forward_arg__", annotation)  # postponed: the text
            assert annotation.split(" | ")[0] == python[column.type], (name, column.name)
            if column.mode == "REQUIRED":
                assert "None" not in annotation, (name, column.name)


def test_every_push_subscription_has_a_dead_letter_topic_kept_for_inspection():
    """A message a function can never take is set aside after max_delivery_attempts, not
    redelivered until retention ends, and not lost."""
    tf = "\n".join(p.read_text() for p in (ROOT / "terraform").glob("*.tf"))
    entries = re.findall(r"\n    (\w+) = \{\n(.*?)\n    \}", tf, re.S)
    subscriptions = {name: body for name, body in entries if "ack_deadline" in body}
    assert {"ingest_launch", "export_costs", "deploy_status", "notify_incident"} <= set(
        subscriptions
    )
    for name, body in subscriptions.items():
        assert re.search(r'dead_letter\s+= "[^"]+-dead-letter"', body), name
    push = tf.split('resource "google_pubsub_subscription" "push" {')[1].split("\n}\n")[0]
    assert "dead_letter_policy {" in push and "dynamic" not in push
    assert 'resource "google_pubsub_subscription" "dead_letter" {' in tf
