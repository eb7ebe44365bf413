"""Deploy builds as Cloud Build describes them, whichever back end runs them.

A build knows what it deploys from its substitutions (``COMMIT_SHA``, ``_ENVIRONMENT``,
``_DELIVERY``, ``_REPO``, ``_KIND``) and is found again by its tags (``sha-…``,
``env-…``, ``delivery-…``). That is all the state push-to-deploy keeps: the build
system is asked, nothing is remembered locally.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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


@dataclass(frozen=True)
class DeployRequest:
    repo: str
    sha: str
    environment: str
    kind: str  # push, pull_request, comment, rollback, override, release
    delivery: str
    description: str = ""

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


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


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
        """A Build resource (REST JSON, as on the ``cloud-builds`` topic)."""
        subs = resource.get("substitutions") or {}
        source = (resource.get("sourceProvenance") or {}).get("resolvedRepoSource") or {}
        return cls(
            id=str(resource.get("id", "")),
            status=str(resource.get("status", "STATUS_UNKNOWN")),
            sha=subs.get("COMMIT_SHA") or source.get("commitSha", ""),
            environment=subs.get("_ENVIRONMENT", ""),
            delivery=subs.get("_DELIVERY", ""),
            repo=subs.get("_REPO", ""),
            kind=subs.get("_KIND", ""),
            created=_time(resource.get("createTime")),
            started=_time(resource.get("startTime")),
            finished=_time(resource.get("finishTime")),
            log_url=resource.get("logUrl", ""),
            detail=resource.get("statusDetail", ""),
        )

    @property
    def request(self) -> DeployRequest:
        """The deploy this build carries out."""
        return DeployRequest(self.repo, self.sha, self.environment, self.kind, self.delivery)

    @property
    def is_deploy(self) -> bool:
        """Started by binderops (other builds share the ``cloud-builds`` topic)."""
        return bool(
            self.id and self.sha and self.environment in (STAGING, PRODUCTION) and self.delivery
        )

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
