"""One typed settings object, read from ``BINDEROPS_*`` environment variables.

With no variable set everything runs on this machine: an embedded DuckDB warehouse
under ``./.binderops`` and the Pub/Sub emulator.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
        )
        if settings.max_event_bytes <= 0:
            raise ConfigError("BINDEROPS_MAX_EVENT_BYTES must be positive")
        return settings
