"""GitHub webhooks → deploy requests. The signature is checked before anything is parsed."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import IO, Protocol, overload
from urllib.parse import parse_qs

from ..clients.github import GitHub, comment_once
from ..clients.http import Rejected, Unavailable
from ..core.payloads import at, json_value, text
from .builds import GUID, STAGING, DeployRequest, InvalidDeploy
from .deployer import INCIDENT_LABEL, WRITE_ACCESS, Deployer, Outcome
from .settings import DeploySettings

log = logging.getLogger("binderops.webhooks")

MAX_BODY_BYTES = 25 * 1024 * 1024  # what GitHub itself caps payloads at
CHUNK_BYTES = 64 * 1024
NO_ACCESS_MARKER = "<!-- binderops:no-write-access -->"
TEST_COMMAND = "/test-this-pr"
NULL_SHA = "0" * 40
# GitHub lists at most this many commits in a push; a bigger push may touch anything.
PUSH_COMMITS_LISTED = 20


@dataclass(frozen=True)
class Rules:
    """What a delivery is checked against: the deploy settings and the incident repository."""

    repos: tuple[str, ...]
    branch: str
    ignore: tuple[str, ...]
    label: str
    override_label: str
    incident_repo: str
    trials: bool = False  # a trial trigger is configured for pull requests from forks
    request_max_age: int = 600

    @classmethod
    def from_settings(cls, deploys: DeploySettings, incident_repo: str) -> Rules:
        return cls(
            deploys.repos,
            deploys.branch,
            deploys.ignore,
            deploys.label,
            deploys.override_label,
            incident_repo,
            bool(deploys.trial_trigger),
            deploys.request_max_age,
        )


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict
    # Refused with (some of) its body still unread: the answer must not wait for the rest.
    unread: bool = False


def signed_body(
    stream: IO[bytes], length: int | None, secret: str, header: str | None
) -> bytearray | Reply:
    """The body of a delivery whose ``X-Hub-Signature-256`` holds (``sha256=`` and the
    HMAC-SHA256 of the raw body with ``secret``, compared in constant time), else the reply
    that refuses it. A delivery without a signature, or with no secret configured, is
    refused before a byte of its body is read; a signed one is read in chunks straight into
    the HMAC and into one buffer (never a second copy), and refused past 25 MiB."""
    if (length or 0) > MAX_BODY_BYTES:
        return TOO_LARGE
    if not secret or not header or not header.startswith("sha256="):
        if not secret:
            log.error("BINDEROPS_GITHUB_WEBHOOK_SECRET is not set: every webhook is refused")
        return UNSIGNED
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    body = bytearray()
    while chunk := stream.read(CHUNK_BYTES):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return TOO_LARGE
        mac.update(chunk)
    if not hmac.compare_digest(f"sha256={mac.hexdigest()}".encode(), header.encode()):
        return Reply(401, UNSIGNED.body)  # read whole: nothing is left to wait for
    return body


UNSIGNED = Reply(401, {"error": "missing or invalid X-Hub-Signature-256"}, unread=True)
TOO_LARGE = Reply(413, {"error": "payload larger than 25 MiB"}, unread=True)


def _ignored(reason: str) -> Reply:
    return Reply(202, {"action": "ignored", "reason": reason})


def _reply(outcome: Outcome) -> Reply:
    return Reply(202 if outcome.action == "ignored" else 200, outcome.as_dict())


def _payload(body: bytes | bytearray, content_type: str) -> dict | None:
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode())["payload"][0].encode()
        value = json_value(body)
    except (ValueError, KeyError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def changed_files(push: dict) -> set[str] | None:
    """Every path a push touched, or None when GitHub did not list them all."""
    commits = push.get("commits")
    if not isinstance(commits, list) or not commits or len(commits) >= PUSH_COMMITS_LISTED:
        return None
    files = set()
    for commit in commits:
        for key in ("added", "removed", "modified"):
            paths = at(commit, key)
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                return None  # not listed as GitHub lists them: the push may touch anything
            files.update(paths)
    return files


class Headers(Protocol):
    """Request headers, looked up case-insensitively (Flask's ``request.headers``)."""

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str) -> str: ...


def handle(
    headers: Headers,
    stream: IO[bytes],
    length: int | None,
    secret: str,
    rules: Rules,
    deployer: Callable[[], Deployer],
) -> Reply:
    """Answer one webhook delivery, its body read from ``stream`` only once its signature
    is known to be there (``signed_body``). ``headers`` is case-insensitive (as Flask's are);
    ``deployer`` is made only for a delivery that is signed."""
    body = signed_body(stream, length, secret, headers.get("X-Hub-Signature-256"))
    if isinstance(body, Reply):
        return body
    event, delivery = headers.get("X-GitHub-Event", ""), headers.get("X-GitHub-Delivery", "")
    payload = _payload(body, headers.get("Content-Type", "application/json"))
    if payload is None:
        return Reply(400, {"error": "the body is not a JSON object"})
    if event == "ping":
        return Reply(200, {"action": "pong", "hook_id": payload.get("hook_id")})
    if not re.fullmatch(GUID, delivery):
        # Not covered by the signature, and it becomes a build substitution and tag.
        return Reply(400, {"error": "X-GitHub-Delivery must be a GUID"})
    route = {
        "push": _push,
        "pull_request": _pull_request,
        "issue_comment": _comment,
        "issues": _issues,
    }.get(event)
    if route is None:
        return _ignored(f"binderops does not act on {event or 'unnamed'!r} events")
    repository = payload.get("repository")
    named = repository.get("full_name") if isinstance(repository, dict) else None
    if not isinstance(named, str):
        return Reply(400, {"error": "the payload names no repository"})
    # GitHub compares names without case; deploys use the spelling the operator configured.
    known = {r.lower(): r for r in (*rules.repos, rules.incident_repo) if r}
    repo = known.get(named.lower(), named)
    if repo not in rules.repos and not (event == "issues" and repo == rules.incident_repo):
        return _ignored(f"repository {named[:100]!r} is not in BINDEROPS_DEPLOY_REPOS")
    try:
        reply = route(payload, repo, delivery, rules, deployer())
    except Unavailable as e:
        log.error(
            "webhook %s (%s): %s; redeliver it from the webhook's Recent Deliveries",
            delivery,
            event,
            e,
        )
        return Reply(503, {"error": f"{e}; redeliver this webhook to try again"})
    except InvalidDeploy as e:
        log.warning("webhook %s (%s): refused: %s", delivery, event, e)
        return Reply(400, {"error": str(e)})
    except Rejected as e:
        log.error("webhook %s (%s): %s", delivery, event, e)
        return Reply(502, {"error": str(e)})
    log.info("webhook %s (%s on %s): %s", delivery, event, repo, reply.body)
    return reply


def _push(push: dict, repo: str, delivery: str, rules: Rules, deployer: Deployer) -> Reply:
    ref = text(push, "ref")
    if ref != f"refs/heads/{rules.branch}":
        return _ignored(f"push to {ref[:100]!r}, not refs/heads/{rules.branch}")
    sha = text(push, "after")
    if at(push, "deleted") is True or sha == NULL_SHA:
        return _ignored("the branch was deleted")
    files = changed_files(push)
    if files and rules.ignore and all(any(fnmatchcase(f, g) for g in rules.ignore) for f in files):
        return _ignored(
            f"every changed file matches BINDEROPS_DEPLOY_IGNORE ({', '.join(rules.ignore)})"
        )
    message = text(push, "head_commit", "message").splitlines()
    description = f"push to {rules.branch}: {message[0]}" if message else f"push to {rules.branch}"
    return _reply(deployer.deploy(DeployRequest(repo, sha, STAGING, "push", delivery, description)))


def _pull_request(event: dict, repo: str, delivery: str, rules: Rules, deployer: Deployer) -> Reply:
    label, action, number = text(event, "label", "name"), text(event, "action"), at(event, "number")
    if action != "labeled" or label not in (rules.label, rules.override_label):
        return _ignored(f"pull_request {action[:40]!r} with label {label[:100]!r} starts no deploy")
    if not isinstance(number, int) or isinstance(number, bool):
        return Reply(400, {"error": "the pull request has no number"})
    if label == rules.override_label:
        if at(event, "pull_request", "merged") is not True:
            return _ignored(
                f"{rules.override_label!r} takes effect once the pull request is merged"
            )
        # Overriding an incident hold deploys what was merged, to production; the deployer
        # asks GitHub whether it may (the payload's word is not taken for it).
        outcome = deployer.override(repo, number, text(event, "sender", "login"), delivery)
        if outcome.action == "refused" and deployer.github is not None:
            _answer_once(
                deployer.github,
                repo,
                number,
                f"<!-- binderops:override-refused {delivery} -->",
                f"Nothing was deployed to production: {outcome.reason}.",
            )
        return _reply(outcome)
    labeller, head = text(event, "sender", "login"), text(event, "pull_request", "head", "sha")
    return _trial(
        repo, number, labeller, head, None, f"labelled {label}", delivery, rules, deployer
    )


def _comment(event: dict, repo: str, delivery: str, rules: Rules, deployer: Deployer) -> Reply:
    words = text(event, "comment", "body").strip().split()
    if text(event, "action") != "created" or not words or words[0] != TEST_COMMAND:
        return _ignored(f"only a new {TEST_COMMAND} comment starts a deploy")
    number = at(event, "issue", "number")
    if (
        not at(event, "issue", "pull_request")
        or not isinstance(number, int)
        or isinstance(number, bool)
    ):
        return _ignored(f"{TEST_COMMAND} works on pull requests only")
    asked_at = _moment(text(event, "comment", "created_at"))
    if asked_at is None or datetime.now(UTC) - asked_at > timedelta(seconds=rules.request_max_age):
        # A redelivery of an old comment must not deploy what was pushed since.
        return _ignored(
            f"the {TEST_COMMAND} comment is older than {rules.request_max_age} s; comment again"
        )
    commenter = text(event, "comment", "user", "login")
    return _trial(repo, number, commenter, "", asked_at, TEST_COMMAND, delivery, rules, deployer)


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _trial(
    repo: str,
    number: int,
    requester: str,
    head_then: str,
    asked_at: datetime | None,
    how: str,
    delivery: str,
    rules: Rules,
    deployer: Deployer,
) -> Reply:
    """Deploy pull request ``number`` to staging for ``requester``, if they may and its head
    is still what they asked for: ``head_then`` (a label names it), or for a comment a head
    no newer than the comment. A pull request from a fork runs on the trial trigger."""
    github = deployer.github
    if github is None:
        return _ignored(
            "pull request trials need BINDEROPS_GITHUB_TOKEN to ask GitHub who may deploy"
        )
    if not requester or github.permission(repo, requester) not in WRITE_ACCESS:
        _answer_once(
            github,
            repo,
            number,
            NO_ACCESS_MARKER,
            f"Thanks, @{requester or 'there'}! Only people with write access to this repository "
            f"can deploy a pull request to staging (`{TEST_COMMAND}` or the `{rules.label}` label); "
            "one of them can do it for you.",
        )
        return _refused(
            f"{requester or 'someone'} has no write access to {repo}; answered on #{number}"
        )
    pull = github.pull(repo, number)
    head = text(pull, "head", "sha")
    moved = bool(head_then) and head != head_then
    if not moved and asked_at is not None and head:
        committed = _moment(text(github.commit(repo, head), "commit", "committer", "date"))
        moved = committed is not None and committed > asked_at
    if moved:
        _answer_once(
            github,
            repo,
            number,
            f"<!-- binderops:moved {delivery} -->",
            f"The head of #{number} changed after @{requester} asked for a deploy; nothing was "
            "deployed. Ask again to deploy the new head.",
        )
        return _refused(f"the head of #{number} moved since the request; answered on #{number}")
    kind = "comment" if asked_at is not None else "pull_request"
    if text(pull, "head", "repo", "full_name").lower() != repo.lower():
        if not rules.trials:
            _answer_once(
                github,
                repo,
                number,
                "<!-- binderops:fork-refused -->",
                f"#{number} comes from a fork: it cannot run in the deploy pipeline, which holds "
                "production credentials, and no trial trigger is configured for forks.",
            )
            return _refused(f"#{number} is from a fork and no trial trigger is configured")
        kind = "trial"
    request = DeployRequest(repo, head, STAGING, kind, delivery, f"#{number} {how} by {requester}")
    return _reply(deployer.deploy(request))


def _refused(reason: str) -> Reply:
    return Reply(202, {"action": "refused", "reason": reason})


def _answer_once(github: GitHub, repo: str, number: int, marker: str, message: str) -> None:
    """Comment ``message`` on ``number`` unless a comment with ``marker`` is there already:
    a redelivery, or the same person asking again, gets no second reply."""
    comment_once(github, repo, number, marker, f"{marker}\n{message}")


def _issues(event: dict, repo: str, delivery: str, rules: Rules, deployer: Deployer) -> Reply:
    labels = at(event, "issue", "labels")
    names = {text(label, "name") for label in labels} if isinstance(labels, list) else set()
    if (
        repo != rules.incident_repo
        or text(event, "action") != "closed"
        or INCIDENT_LABEL not in names
    ):
        return _ignored("only closing an incident issue releases held deploys")
    results = {r: deployer.release_held(r).as_dict() for r in rules.repos}
    return Reply(200, {"action": "released", "repos": results})
