"""Deploy builds as Cloud Build describes them, whichever back end runs them.

A build knows what it deploys from its substitutions (``COMMIT_SHA``, ``_ENVIRONMENT``,
``_DELIVERY``, ``_REPO``, ``_KIND``) and is found again by its tags (``sha-…``,
``env-…``, ``delivery-…``). That is all the state push-to-deploy keeps: the build
system is asked, nothing is remembered locally.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from ..core.errors import Drop
from ..core.payloads import at, mapping, text

STAGING, PRODUCTION = "staging", "production"

# Cloud Build status → GitHub Deployment state. None: nothing to report.
DEPLOYMENT_STATE = {
    "STATUS_UNKNOWN": None,
    "PENDING": "queued",
    "QUEUED": "queued",
    "WORKING": "in_progress",
    "SUCCESS": "success",
    # The deploy ran and did not succeed.
    "FAILURE": "failure",
    "TIMEOUT": "failure",
    # The deploy did not get to run properly.
    "INTERNAL_ERROR": "error",
    "CANCELLED": "error",
    "EXPIRED": "error",
}
TERMINAL = {"SUCCESS", "FAILURE", "TIMEOUT", "INTERNAL_ERROR", "CANCELLED", "EXPIRED"}
# The state a finished build leaves its Deployment in (every terminal status has one).
FINAL_STATE: dict[str, str] = {
    status: state
    for status, state in DEPLOYMENT_STATE.items()
    if state is not None and status in TERMINAL
}
# How far along a GitHub Deployment state is: a status is only ever moved forward.
STATE_RANK = {
    "pending": 0,
    "queued": 0,
    "in_progress": 1,
    "success": 2,
    "failure": 2,
    "error": 2,
    "inactive": 2,
}


GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# What each value passed to Cloud Build (as a substitution, a tag, a filter) may be. Anything
# else is refused before any side effect: these values reach shell steps and build filters.
PATTERNS = {
    "sha": re.compile(r"[0-9a-f]{40}"),
    "repo": re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}"),
    "environment": re.compile(f"{STAGING}|{PRODUCTION}"),
    "kind": re.compile("push|pull_request|comment|trial|rollback|override|release"),
    # A GitHub delivery id, or a rollback's: ``rollback-`` and the failed build's id.
    "delivery": re.compile(f"(rollback-)?{GUID}"),
}


class InvalidDeploy(Drop):
    """A deploy request with a value that may not reach Cloud Build; the text names the field."""

    kind = "invalid_deploy"


@dataclass(frozen=True)
class DeployRequest:
    repo: str
    sha: str
    environment: str
    kind: str  # push, pull_request, comment, trial (from a fork), rollback, override, release
    delivery: str
    description: str = ""

    def problem(self) -> str:
        """Why this request may not reach Cloud Build ("" when it may)."""
        for name, pattern in PATTERNS.items():
            value = getattr(self, name)
            if not isinstance(value, str) or not pattern.fullmatch(value):
                return f"{name} {str(value)[:80]!r} is not a valid {name}"
        if any(part in (".", "..") for part in self.repo.split("/")):
            return f"repo {self.repo!r} is not a valid repo"
        return ""

    def check(self) -> None:
        if problem := self.problem():
            raise InvalidDeploy(problem)

    @property
    def substitutions(self) -> dict[str, str]:
        return {
            "_ENVIRONMENT": self.environment,
            "_DELIVERY": self.delivery,
            "_REPO": self.repo,
            "_KIND": self.kind,
        }


def tags(sha: str = "", environment: str = "", delivery: str = "") -> list[str]:
    """The build tags the deploy trigger sets: ``sha-$COMMIT_SHA``, ``env-$_ENVIRONMENT``,
    ``delivery-$_DELIVERY``."""
    return [
        t
        for t in (
            sha and f"sha-{sha}",
            environment and f"env-{environment}",
            delivery and f"delivery-{delivery}",
        )
        if t
    ]


# Staging deploys of these kinds go on to production; other staging deploys are trials.
PROMOTED_KINDS = {"push"}


def identity(request: DeployRequest) -> list[str]:
    """The tags that make two deploys the same: sha and environment, or for a rollback its delivery
    (a rollback redeploys a sha production already had)."""
    return (
        tags(delivery=request.delivery)
        if request.kind == "rollback"
        else tags(request.sha, request.environment)
    )


def already_started(found: Builds, request: DeployRequest) -> list[Build]:
    """Builds that already do what ``request`` asks: found by ``identity``, newest first. A trial
    on staging (a labelled PR) does not stand in for a push, which must go on to production."""
    trial_only = request.environment == STAGING and request.kind in PROMOTED_KINDS
    return [
        b
        for b in found.find(identity(request))
        if not (trial_only and b.kind not in PROMOTED_KINDS)
    ]


def _time(value: object) -> datetime | None:
    """An RFC 3339 time of the resource; anything else (a message of the wrong shape) is unknown."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Build:
    id: str
    status: str
    sha: str
    environment: str
    delivery: str
    repo: str
    kind: str
    created: datetime | None
    started: datetime | None
    finished: datetime | None
    log_url: str
    detail: str = ""

    @classmethod
    def from_resource(cls, resource: dict) -> Build:
        """A Build resource (REST JSON, as on the ``cloud-builds`` topic).

        A resource of the wrong shape yields a Build that is not a deploy (and is ignored),
        never an exception: Pub/Sub would redeliver it forever.
        """
        subs = mapping(resource, "substitutions")
        source = mapping(resource, "sourceProvenance", "resolvedRepoSource")
        return cls(
            id=text(resource, "id"),
            status=text(resource, "status") or "STATUS_UNKNOWN",
            sha=text(subs, "COMMIT_SHA") or text(source, "commitSha"),
            environment=text(subs, "_ENVIRONMENT"),
            delivery=text(subs, "_DELIVERY"),
            repo=text(subs, "_REPO"),
            kind=text(subs, "_KIND"),
            created=_time(at(resource, "createTime")),
            started=_time(at(resource, "startTime")),
            finished=_time(at(resource, "finishTime")),
            log_url=text(resource, "logUrl"),
            detail=text(resource, "statusDetail"),
        )

    @property
    def request(self) -> DeployRequest:
        """The deploy this build carries out."""
        return DeployRequest(self.repo, self.sha, self.environment, self.kind, self.delivery)

    @property
    def is_deploy(self) -> bool:
        """Started by binderops (other builds share the ``cloud-builds`` topic)."""
        if not self.id or not self.sha or not self.environment or not self.delivery:
            return False
        # _REPO and _KIND may be missing (the deployer then ignores the build); what is there
        # must have a deploy's shape.
        request = self.request
        present = {"repo": request.repo or "owner/name", "kind": request.kind or "push"}
        return not replace(request, **present).problem()

    @property
    def duration_seconds(self) -> float | None:
        start = self.started or self.created
        return (self.finished - start).total_seconds() if start and self.finished else None


class Builds(Protocol):
    """Where deploys run: Cloud Build, or subprocesses on this machine."""

    def find(self, tags: Sequence[str], status: str = "", limit: int = 10) -> list[Build]:
        """Builds carrying every tag (and ``status``, if given), newest first."""

    def get(self, build_id: str) -> Build | None:
        """The build as it is now (None if unknown)."""

    def start(self, request: DeployRequest) -> Build:
        """Start a deploy build and return it as queued."""
