"""Terraform against the code, with no cloud account: every entry point has a function of
the right trigger kind, every Pub/Sub-fed function its push subscription, every tick its
scheduler, the catalog's tables and views are declared, every variable a function is given
is one the code reads, every secret is declared. Each check is shown to fail on a copy of
``terraform/`` with one thing broken."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from conftest import need_tool, settings_classes
from terraform_model import Terraform, unquote

from binderops.core import config

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings_classes()
# Set by Cloud Run itself, not by Terraform.
PLATFORM = {"K_SERVICE"}
# What every deployed function must be told: the defaults are the one-machine ones.
EVERY_FUNCTION = {"BINDEROPS_WAREHOUSE"}
PUBLISHERS = {"export_costs", "publish_archive", "publish_live"}


def entry_points() -> dict[str, str]:
    """functions/main.py's entry points and their kind: ``cloud_event`` or ``http``."""
    tree = ast.parse((ROOT / "functions" / "main.py").read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Attribute) and decorator.attr in (
                    "cloud_event",
                    "http",
                ):
                    found[node.name] = decorator.attr
    return found


def problems(folder: Path) -> list[str]:
    """Every way the Terraform in ``folder`` disagrees with the code."""
    tf = Terraform.read(folder)
    found: list[str] = []
    functions, subscriptions = tf.functions, tf.push_subscriptions
    points = entry_points()
    for name in sorted(set(points) - set(functions)):
        found.append(f"entry point {name} has no function in Terraform")
    for name in sorted(set(functions) - set(points)):
        found.append(f"function {name} in Terraform is no entry point of main.py")
    for name, kind in sorted(points.items()):
        if name not in functions:
            continue
        if kind == "cloud_event" and name not in subscriptions:
            found.append(f"{name} takes CloudEvents but has no push subscription")
        if kind == "http" and name in subscriptions:
            found.append(f"{name} answers HTTP but is fed by a push subscription")
    scheduled = tf.scheduled_topics()
    topics = {
        name: re.sub(r"^\$\{|\.id\}$", "", sub["topic"]) for name, sub in subscriptions.items()
    }
    for name, topic in sorted(topics.items()):
        if topic.endswith("_ticks") and topic not in scheduled:
            found.append(f"{name} is fed by {topic}, which no scheduler job ticks")

    tables = tf.resources.get("google_bigquery_table", {})
    if tables.get("tables", {}).get("for_each") != "${local.catalog.tables}":
        found.append("the catalog's tables are not declared (google_bigquery_table.tables)")
    if tables.get("views", {}).get("for_each") != "${local.catalog.views}":
        found.append("the catalog's views are not declared (google_bigquery_table.views)")
    if "schemas}/catalog.json" not in str(tf.locals.get("catalog")):
        found.append("local.catalog does not read schemas/catalog.json")

    readable = {name: field for kind in SETTINGS for name, field in config.variables(kind).items()}
    secrets = {unquote(v) for v in tf.local("secrets").values()}
    declared = tf.resources.get("google_secret_manager_secret", {}).get("secrets", {})
    for name, function in sorted(functions.items()):
        environment = function.get("environment", {})
        if isinstance(environment, str):
            environment = tf.value(environment)
        for variable in sorted(set(environment) - set(readable) - PLATFORM):
            found.append(f"{name} is given {variable}, which no settings class reads")
        for variable in sorted(EVERY_FUNCTION - set(environment)):
            found.append(f"{name} is not given {variable}; its default is for one machine")
        if name in PUBLISHERS and "BINDEROPS_PUBLIC_BUCKET" not in environment:
            found.append(f"{name} publishes but is not given BINDEROPS_PUBLIC_BUCKET")
        function_secrets = tf.value(function.get("secrets", {}))
        for variable, secret in sorted(function_secrets.items()):
            field = readable.get(variable)
            if field is None or not field.metadata["secret"]:
                found.append(f"{name} gets secret {variable}, which is no secret setting")
            key = re.fullmatch(r"\$\{local\.secret_ids\.(\w+)\}", secret)
            if not key or key[1] not in tf.local("secrets"):
                found.append(f"{name} reads secret {secret}, which is not declared")
    if declared.get("for_each") != "${local.secrets}" or not secrets:
        found.append("the secrets are not declared (google_secret_manager_secret.secrets)")
    return found


def test_terraform_and_the_code_agree():
    assert problems(ROOT / "terraform") == []


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "terraform"
    shutil.copytree(
        ROOT / "terraform", folder, ignore=shutil.ignore_patterns(".terraform*", ".build")
    )
    path = folder / file
    text = path.read_text()
    assert old in text, f"{file} no longer holds {old!r}: update this test"
    path.write_text(text.replace(old, new, 1))
    return folder


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        (
            "monitoring.tf",
            '    publish_live = {\n      name            = "publish-live"',
            '    publish_live_gone = {\n      name            = "publish-live"',
            "entry point publish_live has no function in Terraform",
        ),
        (
            "monitoring.tf",
            '    publish_live = {\n      name            = "live-ticks-push"',
            '    publish_live_x = {\n      name            = "live-ticks-push"',
            "publish_live takes CloudEvents but has no push subscription",
        ),
        (
            "archive.tf",
            "topic_name = google_pubsub_topic.archive_ticks.id",
            "topic_name = google_pubsub_topic.cost_ticks.id",
            "publish_archive is fed by google_pubsub_topic.archive_ticks, which no scheduler",
        ),
        (
            "main.tf",
            "for_each            = local.catalog.views",
            "for_each            = {}",
            "the catalog's views are not declared",
        ),
        (
            "main.tf",
            "BINDEROPS_DEFAULT_ORIGIN = var.default_origin",
            "BINDEROPS_DEFAULT_ORIGN = var.default_origin",
            "ingest_launch is given BINDEROPS_DEFAULT_ORIGN, which no settings class reads",
        ),
        (
            "archive.tf",
            "BINDEROPS_PUBLIC_BUCKET  = google_storage_bucket.public.name",
            "BINDEROPS_PUBLIC_DIR     = google_storage_bucket.public.name",
            "publish_archive publishes but is not given BINDEROPS_PUBLIC_BUCKET",
        ),
        (
            "incidents.tf",
            "BINDEROPS_CHAT_WEBHOOKS    = local.secret_ids.chat_webhooks",
            "BINDEROPS_CHAT_WEBHOOKS    = local.secret_ids.chat_hooks",
            "reads secret ${local.secret_ids.chat_hooks}, which is not declared",
        ),
    ],
)
def test_each_disagreement_is_caught(tmp_path, file, old, new, problem):
    found = problems(broken_copy(tmp_path, file, old, new))
    assert any(problem in p for p in found), found


def test_every_input_has_a_type_and_a_description():
    tf = Terraform.read(ROOT / "terraform")
    untyped = [n for n, v in tf.variables.items() if "type" not in v or not v.get("description")]
    assert untyped == []


def test_terraform_readme_tables_list_every_input_and_output():
    readme = (ROOT / "terraform" / "README.md").read_text()
    tf = Terraform.read(ROOT / "terraform")
    outputs = re.findall(r'^output "(\w+)"', (ROOT / "terraform" / "outputs.tf").read_text(), re.M)
    listed = set(re.findall(r"^\| ([\w /]+?) \|", readme, re.M))
    names = {part.strip() for row in listed for part in row.split("/")}
    assert sorted(set(tf.variables) - names) == []
    assert sorted(set(outputs) - names) == []


# Terraform's own arguments, valid on every resource.
META_ARGUMENTS = {"count", "for_each", "depends_on", "lifecycle", "provider"}


def schema_problems(folder: Path) -> list[str]:
    """Arguments and blocks of every google resource against the provider's schema."""
    from provider_schema import camel, resource_struct, structs

    known = structs()

    def check(body: dict, struct: str, where: str) -> list[str]:
        properties = known[struct]
        found, present = [], set()
        for key, value in body.items():
            key = unquote(key)
            if key.startswith("__") or key in META_ARGUMENTS:
                continue
            if key == "dynamic":
                for generated in value:
                    for name, spec in generated.items():
                        name = unquote(name)
                        present.add(camel(name))
                        nested = properties.get(camel(name), {}).get("nested")
                        if nested is None:
                            found.append(f"{where}: unknown block {name}")
                            continue
                        for content in spec.get("content", []):
                            found += check(content, nested, f"{where}.{name}")
                continue
            prop = properties.get(camel(key))
            if prop is None:
                found.append(f"{where}: unknown argument {key}")
                continue
            present.add(camel(key))
            blocks = isinstance(value, list) and value and isinstance(value[0], dict)
            if prop["nested"] and blocks and value[0].get("__is_block__"):
                for block in value:
                    found += check(block, prop["nested"], f"{where}.{key}")
        for name, prop in properties.items():
            if not prop["optional"] and name not in present:
                found.append(f"{where}: missing required argument {name}")
        return found

    found = []
    for kind, resources in sorted(Terraform.read(folder).resources.items()):
        if not kind.startswith("google_"):
            continue
        struct = resource_struct(kind)
        if struct not in known:
            found.append(f"{kind}: no such resource in the google provider")
            continue
        for name, body in sorted(resources.items()):
            found += check(body, struct, f"{kind}.{name}")
    return found


def test_every_resource_matches_the_google_providers_schema():
    assert schema_problems(ROOT / "terraform") == []


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        (
            "main.tf",
            "  ack_deadline_seconds       = each.value.ack_deadline",
            "  ack_deadline               = each.value.ack_deadline",
            "google_pubsub_subscription.push: unknown argument ack_deadline",
        ),
        (
            "main.tf",
            '    runtime     = "python311"',
            '    runtim      = "python311"',
            "google_cloudfunctions2_function.functions.build_config: unknown argument runtim",
        ),
        (
            "costs.tf",
            '  name      = "binderops-export-costs"\n',
            "",
            "google_cloud_scheduler_job.export_costs: missing required argument name",
        ),
    ],
)
def test_a_wrong_argument_is_caught_without_the_provider(tmp_path, file, old, new, problem):
    found = schema_problems(broken_copy(tmp_path, file, old, new))
    assert problem in found, found


def test_checkov_passes_offline_without_a_traceback(tmp_path):
    """`make checkov`, exactly as `make test` has it, with every name lookup and connection
    its process attempts recorded (tests/offline/sitecustomize.py): none leaves the machine,
    and a passing scan prints no traceback."""
    import os
    import subprocess

    if not (ROOT / ".venv-checkov" / "bin" / "checkov").exists():
        need_tool("checkov is not installed: `make test` installs it into .venv-checkov")
    log = tmp_path / "network.log"
    result = subprocess.run(
        ["make", "--no-print-directory", "checkov"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT / "tests" / "offline"),
            "BINDEROPS_NETWORK_LOG": str(log),
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output and "Failed to get" not in output, output
    assert "Failed checks: 0" in output
    attempts = log.read_text().splitlines() if log.exists() else []
    outside = [a for a in attempts if not re.search(r"'(127\.\d+\.\d+\.\d+|localhost|::1)'", a)]
    assert outside == [], outside
