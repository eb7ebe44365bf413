"""Deploys and incidents end to end through the official Pub/Sub emulator: functions-framework
servers, the local build back end publishing on ``cloud-builds``, GitHub and chat on loopback."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fakes.chat import FakeChat, webhooks
from fakes.github import TOKEN, FakeGitHub
from fakes.http import RecordingServer
from test_incidents import INCIDENT_REPO, OPEN, closed
from test_pubsub_emulator import wait_until

from binderops.local import cli
from binderops.local import services as local
from binderops.warehouse import open_warehouse

pytestmark = pytest.mark.emulator
REPO = "binder-examples/federation-deploy"
PROJECT = "binderops-test"


@pytest.fixture
def services():
    started = []
    yield started
    for service in started:
        service.stop()


def start_deploys(env: dict, emulator, services: list, tmp_path) -> local.Service:
    """deploy_status pushed from ``BINDEROPS_BUILDS_TOPIC`` on the emulator, and github_webhook."""
    status = local.start_function("deploy_status", env, tmp_path / "logs")
    services.append(status)
    local.PubSubWiring(PROJECT, env["BINDEROPS_BUILDS_TOPIC"], status.url).create(emulator.url)
    webhook = local.start_function("github_webhook", env, tmp_path / "logs")
    services.append(webhook)
    return webhook


def rows(url: str, sql: str) -> list[dict]:
    warehouse = open_warehouse(url)
    try:
        return warehouse.query(sql)
    finally:
        warehouse.close()


def test_a_signed_push_deploys_staging_then_production_through_cloud_builds(
    emulator, services, tmp_path, capsys
):
    github = FakeGitHub()
    with RecordingServer(github) as gh:
        github.url = gh.url
        warehouse = f"duckdb://{tmp_path / 'w.duckdb'}"
        env = {
            "BINDEROPS_WAREHOUSE": warehouse,
            "BINDEROPS_STATE_DIR": str(tmp_path / "state"),
            "BINDEROPS_PROJECT": PROJECT,
            "BINDEROPS_DEPLOY_REPOS": REPO,
            "BINDEROPS_GITHUB_WEBHOOK_SECRET": "local-secret",
            "BINDEROPS_GITHUB_TOKEN": TOKEN,
            "BINDEROPS_GITHUB_API_URL": gh.url,
            "BINDEROPS_BUILDS_TOPIC": "cloud-builds-e2e",
            "PUBSUB_EMULATOR_HOST": emulator.url.removeprefix("http://"),
            # What the deploy sees: its sha and environment, and none of binderops' secrets.
            "BINDEROPS_DEPLOY_COMMAND": 'echo "deploy $BINDEROPS_DEPLOY_SHA to '
            "$BINDEROPS_DEPLOY_ENVIRONMENT, token=${BINDEROPS_GITHUB_TOKEN:-unset} "
            'secret=${BINDEROPS_GITHUB_WEBHOOK_SECRET:-unset}"',
        }
        webhook = start_deploys(env, emulator, services, tmp_path)

        sha = "e5" * 20
        args = [
            "send",
            "github-push",
            "--url",
            webhook.url,
            "--secret",
            "local-secret",
            "--repo",
            REPO,
            "--sha",
            sha,
            "--delivery",
            "a0dbd9b2-5c1e-4d0e-9b8e-6f3f2d1c0b11",
        ]
        assert cli.main(args) == 0
        assert cli.main(args) == 0  # a redelivery
        assert '"action":"exists"' in capsys.readouterr().out.replace(" ", "")

        def deployed():
            return rows(
                warehouse,
                "SELECT environment, sha, status, trigger_kind, build_url FROM deployments ORDER BY started",
            )

        wait_until(lambda: len(deployed()) == 2, 90, "staging and production deploys")
        final = deployed()
        assert [(r["environment"], r["sha"], r["status"], r["trigger_kind"]) for r in final] == [
            ("staging", sha, "success", "push"),
            ("production", sha, "success", "push"),
        ]
        for row in final:
            log = row["build_url"].removeprefix("file://")
            output = Path(log).read_text()
            assert output == f"deploy {sha} to {row['environment']}, token=unset secret=unset\n"
        # Messages arrive in any order and concurrently; a quick build's WORKING may come after
        # its SUCCESS. Whatever the order, each deployment ends on success, never moved back.
        wait_until(
            lambda: [s[-1] for s in github.states("production")] == ["success"],
            30,
            "GitHub statuses",
        )
        for environment in ("staging", "production"):
            [states] = github.states(environment)
            assert states[0] == "queued" and states[-1] == "success"
            assert (
                set(states) <= {"queued", "in_progress", "success"} and states.count("success") >= 1
            )
            assert states.index("success") >= len(states) - 2  # at most re-posted once after a race
        assert github.problems == []


def test_a_deploy_that_times_out_fails_and_never_reaches_production(emulator, services, tmp_path):
    warehouse = f"duckdb://{tmp_path / 'w.duckdb'}"
    env = {
        "BINDEROPS_WAREHOUSE": warehouse,
        "BINDEROPS_STATE_DIR": str(tmp_path / "state"),
        "BINDEROPS_PROJECT": PROJECT,
        "BINDEROPS_DEPLOY_REPOS": REPO,
        "BINDEROPS_GITHUB_WEBHOOK_SECRET": "s",
        "BINDEROPS_BUILDS_TOPIC": "cloud-builds-timeout",
        "PUBSUB_EMULATOR_HOST": emulator.url.removeprefix("http://"),
        "BINDEROPS_DEPLOY_COMMAND": "echo starting; sleep 30 & wait",
        "BINDEROPS_DEPLOY_TIMEOUT": "1",
    }
    webhook = start_deploys(env, emulator, services, tmp_path)
    started = time.monotonic()
    assert (
        cli.main(
            [
                "send",
                "github-push",
                "--url",
                webhook.url,
                "--secret",
                "s",
                "--repo",
                REPO,
                "--sha",
                "f6" * 20,
            ]
        )
        == 0
    )
    wait_until(
        lambda: rows(warehouse, "SELECT COUNT(*) AS n FROM deployments")[0]["n"] == 1,
        60,
        "the timed-out deploy",
    )
    [row] = rows(warehouse, "SELECT environment, status, build_status FROM deployments")
    assert row == {"environment": "staging", "status": "failure", "build_status": "TIMEOUT"}
    assert time.monotonic() - started < 25  # the whole process group was killed, sleep included
    time.sleep(2)
    assert rows(warehouse, "SELECT COUNT(*) AS n FROM deployments")[0]["n"] == 1
    builds = list((tmp_path / "state" / "builds").glob("*.json"))
    assert [json.loads(b.read_text())["substitutions"]["_ENVIRONMENT"] for b in builds] == [
        "staging"
    ]


def test_alerts_on_the_pubsub_channel_open_and_close_one_report(emulator, services, tmp_path):
    github, chat = FakeGitHub(), FakeChat()
    with RecordingServer(github) as gh, RecordingServer(chat) as ch:
        github.url = gh.url
        env = {
            "BINDEROPS_WAREHOUSE": f"duckdb://{tmp_path / 'w.duckdb'}",
            "BINDEROPS_GITHUB_TOKEN": TOKEN,
            "BINDEROPS_GITHUB_API_URL": gh.url,
            "BINDEROPS_INCIDENT_REPO": INCIDENT_REPO,
            "BINDEROPS_CHAT_WEBHOOKS": webhooks(ch.url),
        }
        function = local.start_function("notify_incident", env, tmp_path / "logs")
        services.append(function)
        wiring = local.PubSubWiring(PROJECT, "monitoring-alerts-e2e", function.url)
        wiring.create(emulator.url)
        wiring.publish([(json.dumps(OPEN).encode(), {})] * 2)
        wait_until(
            lambda: len(chat.messages["slack"]) == 1 and github.issues,
            30,
            "the report and the notice",
        )
        wiring.publish([(json.dumps(closed()).encode(), {})] * 2)
        wait_until(lambda: len(chat.messages["slack"]) == 2, 30, "the close")
        time.sleep(1)  # let any duplicate delivery land
        [issue] = github.issues
        assert [label["name"] for label in issue["labels"]] == ["incident", "postmortem-needed"]
        assert len(github.comments[issue["number"]]) == 1
        assert [len(v) for v in chat.messages.values()] == [2, 2, 2]
        assert github.problems == [] and chat.problems == []
