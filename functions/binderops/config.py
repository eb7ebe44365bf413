"""One typed settings object, read from ``BINDEROPS_*`` environment variables.

With no variable set everything runs on this machine: an embedded DuckDB warehouse
under ``./.binderops`` and the Pub/Sub emulator.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_STATE_DIR = Path(".binderops")


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
        )
        if settings.max_event_bytes <= 0:
            raise ConfigError("BINDEROPS_MAX_EVENT_BYTES must be positive")
        if settings.cost_window_days < 1:
            raise ConfigError("BINDEROPS_COST_WINDOW_DAYS must be at least 1")
        try:
            ZoneInfo(settings.cost_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"BINDEROPS_COST_TIMEZONE must be an IANA time zone such as UTC or America/Los_Angeles, "
                f"got {settings.cost_timezone!r}"
            ) from None
        return settings
