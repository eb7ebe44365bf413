"""One typed settings object, read from ``BINDEROPS_*`` environment variables.

With no variable set everything runs on this machine: an embedded DuckDB warehouse
under ``./.binderops`` and the Pub/Sub emulator.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_STATE_DIR = Path(".binderops")
TRIGGER_NAME = re.compile(r"projects/[^/]+/locations/[^/]+/triggers/[^/]+")
REPO_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _secret(env: Mapping[str, str], name: str) -> str:
    """A secret from ``NAME``, or from the file ``NAME_FILE`` names (a Secret Manager volume mount)."""
    value = env.get(name)
    if value:
        return value.strip()
    path = env.get(f"{name}_FILE")
    if not path:
        return ""
    try:
        return Path(path).read_text().strip()
    except OSError as e:
        raise ConfigError(f"{name}_FILE names {path!r}, which cannot be read: {e.strerror}") from None


def _list(env: Mapping[str, str], name: str, default: str = "") -> tuple[str, ...]:
    return tuple(item.strip() for item in (env.get(name, default) or "").split(",") if item.strip())


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


CHAT_KINDS = ("zulip", "slack", "matrix", "file")


def _chat_webhooks(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """``kind=url`` pairs; errors name the entry, never its URL (which holds a secret)."""
    raw = _secret(env, "BINDEROPS_CHAT_WEBHOOKS")
    hooks = []
    for number, entry in enumerate((e.strip() for e in raw.split(",") if e.strip()), start=1):
        kind, sep, url = entry.partition("=")
        if not sep or kind.strip() not in CHAT_KINDS or not url.strip():
            raise ConfigError(
                f"BINDEROPS_CHAT_WEBHOOKS entry {number} must be KIND=URL with KIND one of {', '.join(CHAT_KINDS)}"
            )
        hooks.append((kind.strip(), url.strip()))
    return tuple(hooks)


@dataclass(frozen=True)
class Settings:
    """Everything binderops reads from its environment, with local-mode defaults."""

    warehouse: str
    default_origin: str = "mybinder.org"
    max_event_bytes: int = 64 * 1024
    project: str = "binderops-local"
    launch_topic: str = "launch-events"
    state_dir: Path = DEFAULT_STATE_DIR
    bigquery_api_url: str = ""
    billing_table: str = "gcp_billing_export_v1_000000_000000_000000"
    cost_timezone: str = "UTC"
    cost_window_days: int = 7
    member_costs: Path | None = None
    public_dir: Path = DEFAULT_STATE_DIR / "public"
    public_bucket: str = ""
    storage_api_url: str = ""
    # GitHub (deploys and incidents). Secrets are kept out of repr so they never reach a log.
    github_token: str = field(default="", repr=False)
    github_api_url: str = "https://api.github.com"
    github_webhook_secret: str = field(default="", repr=False)
    # Push-to-deploy.
    deploy_repos: tuple[str, ...] = ()
    deploy_branch: str = "main"
    deploy_ignore: tuple[str, ...] = ("docs/**",)
    deploy_label: str = "test-staging"
    deploy_override_label: str = "deploy-during-incident"
    deploy_rollback: bool = False
    deploy_backend: str = "local"
    deploy_command: str = ""
    deploy_timeout: int = 1800
    deploy_status_url: str = ""
    cloudbuild_trigger: str = ""
    cloudbuild_api_url: str = "https://cloudbuild.googleapis.com"
    builds_topic: str = "cloud-builds"
    # Incidents.
    incident_repo: str = ""
    incident_close_issue: bool = False
    alert_token: str = field(default="", repr=False)
    alert_basic_auth: str = field(default="", repr=False)
    chat_webhooks: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    chat_burst: int = 4
    chat_interval_seconds: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        state_dir = Path(env.get("BINDEROPS_STATE_DIR") or DEFAULT_STATE_DIR)
        warehouse = env.get("BINDEROPS_WAREHOUSE") or f"duckdb://{state_dir / 'warehouse.duckdb'}"
        if not warehouse.startswith(("duckdb://", "bigquery://")):
            raise ConfigError(
                "BINDEROPS_WAREHOUSE must be duckdb://PATH or bigquery://PROJECT/DATASET, "
                f"got {warehouse!r}"
            )
        settings = cls(
            warehouse=warehouse,
            default_origin=env.get("BINDEROPS_DEFAULT_ORIGIN") or "mybinder.org",
            max_event_bytes=_int(env, "BINDEROPS_MAX_EVENT_BYTES", 64 * 1024),
            project=env.get("BINDEROPS_PROJECT") or env.get("GOOGLE_CLOUD_PROJECT") or "binderops-local",
            launch_topic=env.get("BINDEROPS_LAUNCH_TOPIC") or "launch-events",
            state_dir=state_dir,
            bigquery_api_url=env.get("BINDEROPS_BIGQUERY_API_URL", ""),
            billing_table=env.get("BINDEROPS_BILLING_TABLE") or cls.billing_table,
            cost_timezone=env.get("BINDEROPS_COST_TIMEZONE") or "UTC",
            cost_window_days=_int(env, "BINDEROPS_COST_WINDOW_DAYS", 7),
            member_costs=Path(env["BINDEROPS_MEMBER_COSTS"]) if env.get("BINDEROPS_MEMBER_COSTS") else None,
            public_dir=Path(env.get("BINDEROPS_PUBLIC_DIR") or state_dir / "public"),
            public_bucket=env.get("BINDEROPS_PUBLIC_BUCKET", ""),
            storage_api_url=env.get("BINDEROPS_STORAGE_API_URL", ""),
            github_token=_secret(env, "BINDEROPS_GITHUB_TOKEN"),
            github_api_url=(env.get("BINDEROPS_GITHUB_API_URL") or cls.github_api_url).rstrip("/"),
            github_webhook_secret=_secret(env, "BINDEROPS_GITHUB_WEBHOOK_SECRET"),
            deploy_repos=_list(env, "BINDEROPS_DEPLOY_REPOS"),
            deploy_branch=env.get("BINDEROPS_DEPLOY_BRANCH") or "main",
            # Set but empty means "ignore nothing"; unset means the default.
            deploy_ignore=_list(env, "BINDEROPS_DEPLOY_IGNORE", "docs/**"),
            deploy_label=env.get("BINDEROPS_DEPLOY_LABEL") or cls.deploy_label,
            deploy_override_label=env.get("BINDEROPS_DEPLOY_OVERRIDE_LABEL") or cls.deploy_override_label,
            deploy_rollback=_flag(env, "BINDEROPS_DEPLOY_ROLLBACK", False),
            deploy_backend=env.get("BINDEROPS_DEPLOY_BACKEND") or "local",
            deploy_command=env.get("BINDEROPS_DEPLOY_COMMAND", ""),
            deploy_timeout=_int(env, "BINDEROPS_DEPLOY_TIMEOUT", 1800),
            deploy_status_url=env.get("BINDEROPS_DEPLOY_STATUS_URL", ""),
            cloudbuild_trigger=env.get("BINDEROPS_CLOUDBUILD_TRIGGER", ""),
            cloudbuild_api_url=(env.get("BINDEROPS_CLOUDBUILD_API_URL") or cls.cloudbuild_api_url).rstrip("/"),
            builds_topic=env.get("BINDEROPS_BUILDS_TOPIC") or "cloud-builds",
            incident_repo=env.get("BINDEROPS_INCIDENT_REPO", ""),
            incident_close_issue=_flag(env, "BINDEROPS_INCIDENT_CLOSE_ISSUE", False),
            alert_token=_secret(env, "BINDEROPS_ALERT_TOKEN"),
            alert_basic_auth=_secret(env, "BINDEROPS_ALERT_BASIC_AUTH"),
            chat_webhooks=_chat_webhooks(env),
            chat_burst=_int(env, "BINDEROPS_CHAT_BURST", 4),
            chat_interval_seconds=_int(env, "BINDEROPS_CHAT_INTERVAL_SECONDS", 60),
        )
        if settings.max_event_bytes <= 0:
            raise ConfigError("BINDEROPS_MAX_EVENT_BYTES must be positive")
        if settings.cost_window_days < 1:
            raise ConfigError("BINDEROPS_COST_WINDOW_DAYS must be at least 1")
        if settings.deploy_backend not in ("local", "cloudbuild"):
            raise ConfigError(f"BINDEROPS_DEPLOY_BACKEND must be local or cloudbuild, got {settings.deploy_backend!r}")
        if settings.cloudbuild_trigger and not TRIGGER_NAME.fullmatch(settings.cloudbuild_trigger):
            raise ConfigError(
                "BINDEROPS_CLOUDBUILD_TRIGGER must look like projects/PROJECT/locations/LOCATION/triggers/TRIGGER, "
                f"got {settings.cloudbuild_trigger!r}"
            )
        repos = [("BINDEROPS_DEPLOY_REPOS", r) for r in settings.deploy_repos]
        repos += [("BINDEROPS_INCIDENT_REPO", settings.incident_repo)] if settings.incident_repo else []
        for name, repo in repos:
            if not REPO_NAME.fullmatch(repo):
                raise ConfigError(f"{name} takes owner/name repositories, got {repo!r}")
        if settings.alert_basic_auth and ":" not in settings.alert_basic_auth:
            raise ConfigError("BINDEROPS_ALERT_BASIC_AUTH must be user:password")
        if settings.deploy_timeout <= 0 or settings.chat_burst < 1 or settings.chat_interval_seconds < 0:
            raise ConfigError(
                "BINDEROPS_DEPLOY_TIMEOUT and BINDEROPS_CHAT_BURST must be positive, BINDEROPS_CHAT_INTERVAL_SECONDS not negative"
            )
        try:
            ZoneInfo(settings.cost_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"BINDEROPS_COST_TIMEZONE must be an IANA time zone such as UTC or America/Los_Angeles, "
                f"got {settings.cost_timezone!r}"
            ) from None
        return settings
