"""What one function instance keeps between requests: settings and clients, made lazily.

functions-framework serves requests on several threads, so creation is locked: two
first requests at once must not build two clients (or run DDL twice).
"""

from __future__ import annotations

import threading
from functools import cache

from .config import ConfigError, Settings
from .warehouse import Warehouse, open_warehouse

_lock = threading.Lock()


@cache
def _settings() -> Settings:
    return Settings.from_env()


@cache
def _warehouse() -> Warehouse:
    current = _settings()
    return open_warehouse(current.warehouse, current.bigquery_api_url)


@cache
def _github(quick: bool):
    current = _settings()
    if not current.github_token:
        return None
    from .clients import PATIENT, QUICK
    from .clients.github import GitHub

    return GitHub(current.github_api_url, current.github_token, QUICK if quick else PATIENT)


@cache
def _deployer(webhook: bool):
    from .deploys import Deployer, Policy

    current = _settings()
    if current.deploy_backend == "cloudbuild":
        from .clients import PATIENT, QUICK
        from .clients.cloudbuild import CloudBuild

        if not current.cloudbuild_trigger:
            raise ConfigError("BINDEROPS_DEPLOY_BACKEND=cloudbuild needs BINDEROPS_CLOUDBUILD_TRIGGER")
        builds = CloudBuild(current.cloudbuild_trigger, current.cloudbuild_api_url, QUICK if webhook else PATIENT)
    else:
        from .localbuild import LocalBuilds

        builds = LocalBuilds(current.state_dir, current.deploy_command, current.deploy_timeout, current.project,
                             current.builds_topic, current.deploy_status_url)  # fmt: skip
    policy = Policy(current.incident_repo, current.deploy_override_label, current.deploy_rollback)
    return Deployer(builds, _github(webhook), policy, None if webhook else _warehouse())


@cache
def _notifier():
    from .clients.chat import RateLimit, sinks
    from .incidents import FolderIssues, Notifier

    current = _settings()
    issues = _github(False)
    repo = current.incident_repo
    if issues is None:  # no GitHub token: reports go to a folder, as in the local stack
        issues, repo = FolderIssues(current.state_dir / "incidents"), repo or "local/incidents"
    return Notifier(issues, repo, sinks(current.chat_webhooks), RateLimit(current.chat_burst, current.chat_interval_seconds),
                    _warehouse(), current.incident_close_issue)  # fmt: skip


def settings() -> Settings:
    with _lock:
        return _settings()


def warehouse() -> Warehouse:
    with _lock:
        return _warehouse()


def deployer(webhook: bool = False):
    """The deployer: with quick clients and no warehouse for the webhook, else for deploy_status."""
    with _lock:
        return _deployer(webhook)


def notifier():
    """The incident notifier, with its chat rate limit (one per instance)."""
    with _lock:
        return _notifier()


def reset() -> None:
    """Forget settings and clients (tests that change the environment call this)."""
    with _lock:
        _settings.cache_clear()
        for made in (_warehouse, _github, _deployer, _notifier):
            made.cache_clear()
