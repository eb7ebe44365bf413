"""Staged deploys: staging first, production only after staging succeeded, never into an
open incident without an override, reported on GitHub as Deployments.

Nothing is remembered here. Whether a build already exists is asked of the build system
(by tag); which GitHub Deployment belongs to a build is found by its sha, environment and
delivery; a status is only ever moved forward. So every step may safely run twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import NamedTuple

from ..clients.github import GitHub
from ..clients.http import Rejected, create_once
from ..core.errors import ConfigError
from ..core.locks import KeyedLocks
from ..core.seams import MetricsRecorder
from ..warehouse import Warehouse
from . import builds
from .builds import PRODUCTION, STAGING, Build, Builds, DeployRequest

log = logging.getLogger("binderops.deploys")

INCIDENT_LABEL = "incident"
# Who may deploy a pull request, or override an incident hold: write access to the deploy
# repository, asked of GitHub at the time of the request (GitHub reports maintain as write).
WRITE_ACCESS = {"admin", "write"}
HELD = "Held:"  # how a held production Deployment's status begins; release_held looks for it


@dataclass(frozen=True)
class Outcome:
    action: str  # started, exists, held, refused, ignored
    reason: str
    build_id: str = ""

    def as_dict(self) -> dict:
        return {
            k: v
            for k, v in {
                "action": self.action,
                "reason": self.reason,
                "build": self.build_id,
            }.items()
            if v
        }


@dataclass(frozen=True)
class Policy:
    """What production deploys obey: the incident hold (and its override label), and rollback."""

    incident_repo: str
    override_label: str
    rollback: bool
    repos: tuple[str, ...] = ()  # what deploy_status follows; builds of other repos are ignored
    branch: str = "main"  # the deploy branch: production runs only commits it holds


class Deployer:
    """Starts deploys and follows their builds. ``github`` is None when no token is set."""

    def __init__(
        self,
        builds_: Builds,
        github: GitHub | None,
        policy: Policy,
        warehouse: Warehouse | None = None,
        trial_builds: Builds | None = None,
        metrics: MetricsRecorder | None = None,
    ) -> None:
        self.builds = builds_
        # Where trials of pull requests from forks run: a trigger holding no production
        # credentials (None: such trials are refused before they get here).
        self.trial_builds = trial_builds
        self.github = github
        self.policy = policy
        self.warehouse = warehouse  # where finished deploys are recorded (deploy_status only)
        self.metrics = metrics  # the instance's metric recorder (deploy_status only)
        # Concurrent deliveries for one build, or one sha and environment, wait for each other
        # (Terraform runs both functions as single instances, so this covers every delivery).
        self._locks = KeyedLocks()

    # Starting deploys
    def deploy(self, request: DeployRequest, override: bool = False) -> Outcome:
        """Start ``request`` unless a build for its sha and environment exists (a rollback:
        unless one for its delivery exists), staging has not succeeded, or an incident holds it."""
        with self._locks(" ".join(builds.identity(request))):
            return self._deploy(request, override)

    def _deploy(self, request: DeployRequest, override: bool) -> Outcome:
        request.check()  # nothing odd reaches Cloud Build's substitutions, tags or filters
        runner = self.trial_builds if request.kind == "trial" else self.builds
        if runner is None:
            raise builds.InvalidDeploy("trials of pull requests from forks need a trial trigger")
        existing = builds.already_started(runner, request)
        if existing:
            return Outcome(
                "exists",
                f"{request.environment} deploy of {request.sha[:12]} already started",
                existing[0].id,
            )
        if request.environment == PRODUCTION and request.kind != "rollback":
            if not self._staged(request.sha):
                return Outcome(
                    "refused",
                    f"staging has not succeeded for {request.sha[:12]} as pushed to "
                    f"{self.policy.branch}; production waits for it",
                )
            held_by = None if override else self._held_by(request)
            if held_by:
                label, number = self.policy.override_label, held_by["number"]
                reason = (
                    f"{HELD} incident #{number} is open. Add the {label!r} label to deploy anyway."
                )
                self._report_held(request, reason)
                return Outcome("held", reason)
        deployment = self._reporting(lambda: self._deployment(request))
        build = create_once(
            lambda: runner.start(request),
            lambda: next(iter(builds.already_started(runner, request)), None),
            f"{request.environment} deploy of {request.sha[:12]}",
        )
        if deployment:
            self._reporting(
                lambda: self._status(
                    request.repo, deployment["id"], "queued", f"Build {build.id} queued", build
                )
            )
        log.info(
            "started %s deploy of %s (%s, build %s)",
            request.environment,
            request.sha[:12],
            request.kind,
            build.id,
        )
        return Outcome(
            "started", f"{request.environment} deploy of {request.sha[:12]} started", build.id
        )

    def _staged(self, sha: str) -> bool:
        """Whether a staging build of ``sha`` as pushed to the deploy branch succeeded. A trial
        (a labelled or commented pull request, a fork's build) ran code nobody merged: it
        shares the sha's tags, and never stands in for the branch's own build."""
        found = self.builds.find(builds.tags(sha, STAGING), status="SUCCESS", limit=10)
        return any(b.kind in builds.PROMOTED_KINDS for b in found)

    def override(self, repo: str, number: int, labeller: str, delivery: str) -> Outcome:
        """Deploy pull request ``number``'s merge commit to production through an incident
        hold, because ``labeller`` added the override label; everything the override rests on
        is asked of GitHub now, not read from the webhook (see ``override_problem``)."""
        if self.github is None:
            return Outcome("ignored", "the override needs BINDEROPS_GITHUB_TOKEN to ask GitHub")
        pull = self.github.pull(repo, number)
        if problem := self.override_problem(repo, pull, labeller):
            return Outcome("refused", problem)
        request = DeployRequest(
            repo,
            pull["merge_commit_sha"],
            PRODUCTION,
            "override",
            delivery,
            f"#{number} deployed during an incident",
        )
        return self.deploy(request, override=True)

    def override_problem(self, repo: str, pull: dict, labeller: str) -> str:
        """Why the override label on ``pull`` may not lift an incident hold ("" when it may):
        who added it must have write access now (a triager can label), the pull request must
        be merged into the deploy branch, and its merge commit must be on that branch."""
        github, branch, label = self._github, self.policy.branch, self.policy.override_label
        number = pull.get("number", "?")
        if not labeller or github.permission(repo, labeller) not in WRITE_ACCESS:
            return (
                f"{labeller or 'someone'} added {label!r} to #{number} without write access "
                f"to {repo}; only people with write access can deploy during an incident"
            )
        sha = pull.get("merge_commit_sha")
        if pull.get("merged") is not True or not isinstance(sha, str) or not sha:
            return f"#{number} is not merged; {label!r} takes effect once it is"
        base = (pull.get("base") or {}).get("ref")
        if base != branch:
            return f"#{number} was merged into {str(base)[:100]!r}, not the deploy branch {branch}"
        if not github.on_branch(repo, branch, sha):
            return f"the merge commit {sha[:12]} of #{number} is not on {branch}"
        return ""

    @property
    def _github(self) -> GitHub:
        """The GitHub client, for the steps reached only after a caller found there is one."""
        if self.github is None:
            raise ConfigError("BINDEROPS_GITHUB_TOKEN is not set: binderops cannot ask GitHub")
        return self.github

    @staticmethod
    def _reporting(report):
        """Run a GitHub reporting step; GitHub refusing it (a 4xx) must not stop the deploy.
        An unavailable GitHub still raises, so the delivery is retried."""
        try:
            return report()
        except Rejected as e:
            log.error("GitHub refused a deployment report: %s", e)
            return None

    def _held_by(self, request: DeployRequest) -> dict | None:
        """The open incident holding production, unless the pull request whose merge made this
        commit carries the override label. Text in a commit message never lifts the hold:
        anyone who can push a commit can write it."""
        if not self.github or not self.policy.incident_repo:
            return None
        incidents = self.github.open_issues(self.policy.incident_repo, INCIDENT_LABEL)
        if not incidents:
            return None
        label = self.policy.override_label
        for pull in self.github.commit_pulls(request.repo, request.sha):
            merged_here = pull.get("merged_at") and pull.get("merge_commit_sha") == request.sha
            if merged_here and any(tag.get("name") == label for tag in pull.get("labels", [])):
                # The list shows the label, not who added it, nor the pull request as merged.
                number = pull.get("number")
                if not isinstance(number, int):
                    continue
                full = self.github.pull(request.repo, number)
                labeller = self.github.labeller(request.repo, number, label)
                problem = self.override_problem(request.repo, full, labeller)
                if not problem:
                    return None
                log.warning("incident hold kept for %s: %s", request.sha[:12], problem)
        return incidents[-1]  # the oldest open incident

    def _report_held(self, request: DeployRequest, reason: str) -> None:
        deployment = self._deployment(request)
        if deployment is None:
            return
        latest = self._github.deployment_statuses(request.repo, deployment["id"])
        if not latest or latest[0].get("description") != reason:
            self._status(request.repo, deployment["id"], "queued", reason)

    def _status(
        self,
        repo: str,
        deployment_id: int,
        state: str,
        description: str,
        build: Build | None = None,
    ) -> dict:
        """Post a Deployment status; one that may have been posted without an answer is looked
        for (same state and description) before it is posted again."""
        log_url = build.log_url if build else ""

        def posted() -> dict | None:
            for status in self._github.deployment_statuses(repo, deployment_id):
                if (status.get("state"), status.get("description")) == (state, description[:140]):
                    return status
            return None

        return create_once(
            lambda: self._github.create_deployment_status(
                repo, deployment_id, state, description, log_url
            ),
            posted,
            f"GitHub deployment {deployment_id} status {state}",
        )

    def _deployment(self, request: DeployRequest) -> dict | None:
        """The GitHub Deployment for this sha, environment and delivery (made if missing)."""
        if not self.github:
            return None
        if found := self._found_deployment(request):
            return found
        description = request.description or f"{request.kind} deploy of {request.sha[:12]}"
        return create_once(
            lambda: self._github.create_deployment(
                request.repo,
                request.sha,
                request.environment,
                description,
                {"delivery": request.delivery, "kind": request.kind},
            ),
            lambda: self._found_deployment(request),
            f"GitHub deployment of {request.sha[:12]} to {request.environment}",
        )

    def _found_deployment(self, request: DeployRequest) -> dict | None:
        for deployment in self._github.deployments(request.repo, request.sha, request.environment):
            if (deployment.get("payload") or {}).get("delivery") == request.delivery:
                return deployment
        return None

    def release_held(self, repo: str) -> Outcome:
        """After an incident closes, deploy the production sha it held (if it is still the newest)."""
        if not self.github:
            return Outcome("ignored", "no GitHub token: nothing is held")
        latest = self.github.latest_deployment(repo, PRODUCTION)
        if not latest:
            return Outcome("ignored", "no production deployment on record")
        statuses = self.github.deployment_statuses(repo, latest["id"])
        if not statuses or not statuses[0].get("description", "").startswith(HELD):
            return Outcome("ignored", "the newest production deployment is not held")
        payload = latest.get("payload") or {}
        request = DeployRequest(
            repo,
            latest["sha"],
            PRODUCTION,
            payload.get("kind", "release"),
            payload.get("delivery", ""),
        )
        return self.deploy(request)

    # Following builds
    def follow(self, build: Build) -> str:
        """Handle one message from ``cloud-builds`` and say what was done (for the log).
        Builds binderops did not start share the topic: they are ignored."""
        if not build.is_deploy:
            return f"build {build.id[:64] or '(no id)'} is not a binderops deploy; ignored"
        if build.repo.lower() not in {repo.lower() for repo in self.policy.repos}:
            return f"build {build.id} deploys {build.repo}, not in BINDEROPS_DEPLOY_REPOS; ignored"
        done = "; ".join(self.on_build(build)) or "nothing to do"
        return f"build {build.id} ({build.environment} {build.sha[:12]}) {build.status}: {done}"

    def on_build(self, build: Build) -> list[str]:
        """Handle one message from ``cloud-builds``; return what was done (for the log).

        Safe to run twice for the same (build, status), and in any order: GitHub statuses
        only move forward, the deployments row is keyed on the build, and starting
        production or a rollback is itself idempotent.
        """
        state = builds.DEPLOYMENT_STATE.get(build.status)
        done: list[str] = []
        if state is None:
            return done
        with self._locks(build.id):
            done += self._reporting(lambda: self._report(build, state)) or []
            if build.status not in builds.TERMINAL:
                return done
            if self.warehouse is not None:
                row = deployment_row(build)
                self.warehouse.insert("deployments", [row])
                done.append("recorded in deployments")
                if self.metrics is not None:
                    where = {"environment": build.environment}
                    self.metrics.add("deploys", {**where, "result": row.status})
                    if row.duration_seconds is not None:
                        self.metrics.set("deploy_duration", where, row.duration_seconds)
        if (
            build.status == "SUCCESS"
            and build.environment == STAGING
            and build.kind in builds.PROMOTED_KINDS
        ):
            outcome = self.deploy(replace(build.request, environment=PRODUCTION))
            done.append(f"production: {outcome.action} ({outcome.reason})")
        if (
            build.environment == PRODUCTION
            and state != "success"
            and self.policy.rollback
            and build.kind != "rollback"
        ):
            done.append(self._roll_back(build))
        return done

    def _report(self, build: Build, state: str) -> list[str]:
        """Move the build's GitHub Deployment forward to ``state`` (never back: messages may
        arrive out of order)."""
        final = build.status in builds.TERMINAL
        if not self.github or (not final and self._finished(build.id)):
            return []  # nothing to report to, or a late message: the build has moved on
        deployment = self._deployment(build.request)
        if deployment is None:
            return []
        statuses = self.github.deployment_statuses(build.repo, deployment["id"])
        reached = max(
            (builds.STATE_RANK.get(s.get("state") or "", 0) for s in statuses), default=-1
        )
        if builds.STATE_RANK[state] <= reached:
            return []
        self._post(deployment, build, state)
        done = [f"GitHub deployment {deployment['id']} → {state}"]
        # Messages are handled concurrently: if the build finished while this status was
        # posted, the terminal status may have gone first. Post it again so it is the latest.
        if not final and (now := self._finished(build.id)):
            self._post(deployment, now, builds.FINAL_STATE[now.status])
            done.append(
                f"GitHub deployment {deployment['id']} → {builds.FINAL_STATE[now.status]} "
                "(finished meanwhile)"
            )
        return done

    def _finished(self, build_id: str) -> Build | None:
        current = self.builds.get(build_id)
        return current if current and current.status in builds.TERMINAL else None

    def _post(self, deployment: dict, build: Build, state: str) -> None:
        description = f"Build {build.id}: {build.status.lower()}" + (
            f" ({build.detail})" if build.detail else ""
        )
        self._status(build.repo, deployment["id"], state, description, build)

    def _roll_back(self, failed: Build) -> str:
        for good in self.builds.find(
            builds.tags(environment=PRODUCTION), status="SUCCESS", limit=10
        ):
            if good.sha != failed.sha:
                outcome = self.deploy(
                    DeployRequest(
                        failed.repo,
                        good.sha,
                        PRODUCTION,
                        "rollback",
                        f"rollback-{failed.id}",
                        f"rollback to {good.sha[:12]} after build {failed.id} failed",
                    )
                )
                return f"rollback to {good.sha[:12]}: {outcome.action}"
        return "rollback: no earlier successful production deploy"


class DeploymentRow(NamedTuple):
    """A row of ``deployments`` (``schemas/bigquery/deployments.json``): one finished build."""

    build_id: str
    repo: str
    sha: str
    environment: str
    trigger_kind: str
    delivery: str
    status: str  # the GitHub Deployment state
    build_status: str  # Cloud Build's
    started: datetime | None
    finished: datetime | None
    duration_seconds: float | None
    build_url: str
    recorded_at: datetime


def deployment_row(build: Build) -> DeploymentRow:
    return DeploymentRow(
        build_id=build.id,
        repo=build.repo,
        sha=build.sha,
        environment=build.environment,
        trigger_kind=build.kind,
        delivery=build.delivery,
        status=builds.FINAL_STATE[build.status],
        build_status=build.status,
        started=build.started or build.created,
        finished=build.finished,
        duration_seconds=build.duration_seconds,
        build_url=build.log_url,
        recorded_at=datetime.now(UTC),
    )
