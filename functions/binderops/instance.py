"""What one function instance keeps between requests: settings and clients, made lazily.

functions-framework serves requests on several threads, so creation is locked: two
first requests at once must not build two clients (or run DDL twice).
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .core import config
from .core.config import Settings
from .core.errors import ConfigError
from .warehouse import Warehouse, open_warehouse

if TYPE_CHECKING:
    from .core.members import Member
    from .deploys.builds import Builds

T = TypeVar("T")
_lock = threading.RLock()


@cache
def _settings(kind: type) -> Any:
    return config.read(kind)


@cache
def _warehouse() -> Warehouse:
    shared = settings()
    return open_warehouse(shared.warehouse, shared.bigquery_api_url)


@cache
def _badge_counts():
    from .launches.badges import Counts

    return Counts(_warehouse())


@cache
def _uptimes():
    from .federation.badge import Uptimes

    return Uptimes(_warehouse())


def uptimes():
    with _lock:
        return _uptimes()


@cache
def _github(quick: bool):
    shared = settings()
    if not shared.github_token:
        return None
    from .clients.github import GitHub
    from .clients.http import PATIENT, QUICK

    return GitHub(shared.github_api_url, shared.github_token, QUICK if quick else PATIENT)


@cache
def _deployer(webhook: bool):
    from .clients.http import PATIENT, QUICK
    from .deploys.deployer import Deployer, Policy
    from .deploys.settings import DeploySettings

    shared, deploys = settings(), settings(DeploySettings)
    builds: Builds
    trials: Builds | None = None
    if deploys.backend == "cloudbuild":
        from .deploys.cloudbuild import CloudBuild

        if not deploys.cloudbuild_trigger:
            raise ConfigError(
                "BINDEROPS_DEPLOY_BACKEND=cloudbuild needs BINDEROPS_CLOUDBUILD_TRIGGER"
            )
        retry = QUICK if webhook else PATIENT
        builds = CloudBuild(deploys.cloudbuild_trigger, deploys.cloudbuild_api_url, retry)
        if deploys.trial_trigger:
            trials = CloudBuild(deploys.trial_trigger, deploys.cloudbuild_api_url, retry)
    else:
        from .deploys.localbuild import LocalBuilds

        builds = LocalBuilds(
            shared.state_dir,
            deploys.command,
            deploys.timeout,
            shared.project,
            deploys.builds_topic,
            deploys.status_url,
            deploys.pass_env,
        )
    policy = Policy(
        shared.incident_repo,
        deploys.override_label,
        deploys.rollback,
        deploys.repos,
        deploys.branch,
    )
    warehouse = None if webhook else _warehouse()
    recorder = None if webhook else _metrics()
    return Deployer(
        builds, _github(webhook), policy, warehouse, trial_builds=trials, metrics=recorder
    )


@cache
def _notifier():
    from .clients.chat import RateLimit, sinks
    from .incidents.folder import FolderIssues
    from .incidents.notifier import Notifier
    from .incidents.settings import IncidentSettings

    shared, incidents = settings(), settings(IncidentSettings)
    issues = _github(False)
    repo = shared.incident_repo
    if issues is None:  # no GitHub token: reports go to a folder, as in the local stack
        issues, repo = FolderIssues(shared.state_dir / "incidents"), repo or "local/incidents"
    return Notifier(
        issues,
        repo,
        sinks(incidents.chat_webhooks),
        RateLimit(incidents.chat_burst, incidents.chat_interval_seconds),
        _warehouse(),
        incidents.close_issue,
        _metrics(),
    )


@cache
def _incidents():
    """Where this instance opens incidents it finds itself (freshness): posted to
    ``notify_incident_http`` when BINDEROPS_FRESHNESS_ALERT_URL names it, else nowhere (on
    Google Cloud the freshness gauge's alert policy opens them through Monitoring)."""
    from .launches.settings import LaunchSettings

    url = settings(LaunchSettings).freshness_alert_url
    if not url:
        return None
    from .incidents.seam import Posting

    return Posting(url)


@cache
def _health_incidents():
    """Where federation health opens incidents: notify_incident_http when
    BINDEROPS_HEALTH_ALERT_URL names it, else nowhere (on Google Cloud, Monitoring's uptime
    checks and the member_up gauge's alert policy open them)."""
    from .federation.settings import FederationSettings

    url = settings(FederationSettings).alert_url
    if not url:
        return None
    from .incidents.seam import Posting

    return Posting(url)


def health_incidents():
    with _lock:
        return _health_incidents()


@cache
def _metrics():
    from .metrics import Recorder, Sink, shutdown_write
    from .metrics.settings import MetricsSettings

    sink: Sink
    chosen = settings(MetricsSettings)
    if chosen.mode == "off":
        return Recorder(None)
    if chosen.mode == "monitoring":
        from .metrics.sinks import MonitoringSink

        sink = MonitoringSink(
            settings().project, chosen.region, chosen.service, chosen.monitoring_api_url
        )
    else:
        from .metrics.sinks import WarehouseSink

        sink = WarehouseSink(_warehouse())
    recorder = Recorder(sink)
    shutdown_write(recorder)
    return recorder


@overload
def settings() -> Settings: ...
@overload
def settings(kind: type[T]) -> T: ...
def settings(kind: type = Settings) -> Any:
    """The settings of one capability (``Settings``, the shared ones, by default), read once."""
    with _lock:
        return _settings(kind)


@cache
def _members() -> tuple[Member, ...]:
    from .core.members import read_members

    path = settings().members
    return tuple(read_members(path)) if path else ()


def members() -> tuple[Member, ...]:
    """The federation register's members (BINDEROPS_MEMBERS), read once; none when unset."""
    with _lock:
        return _members()


def warehouse() -> Warehouse:
    with _lock:
        return _warehouse()


def badge_counts():
    """Every repository's launch counts, as this instance answers usage badges from them."""
    with _lock:
        return _badge_counts()


def deployer(webhook: bool = False):
    """The deployer: with quick clients and no warehouse for the webhook, else for deploy_status."""
    with _lock:
        return _deployer(webhook)


def notifier():
    """The incident notifier, with its chat rate limit (one per instance)."""
    with _lock:
        return _notifier()


def incidents():
    """The instance's incident raiser (``incidents.seam``), or None where it raises none."""
    with _lock:
        return _incidents()


def metrics():
    """The instance's metric recorder (``BINDEROPS_METRICS``); written at most once a minute."""
    with _lock:
        return _metrics()


def reset() -> None:
    """Forget settings and clients (tests that change the environment call this)."""
    with _lock:
        if _metrics.cache_info().currsize:
            import atexit

            atexit.unregister(_metrics().write)  # nothing of a forgotten instance is written
        for made in (
            _settings,
            _warehouse,
            _badge_counts,
            _uptimes,
            _github,
            _deployer,
            _notifier,
            _incidents,
            _health_incidents,
            _members,
            _metrics,
        ):
            made.cache_clear()
