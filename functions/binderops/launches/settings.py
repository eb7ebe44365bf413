"""What launch ingestion reads from its environment."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import setting, url
from ..core.errors import ConfigError


def fraction(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise ConfigError(f"{name} must be a fraction between 0 and 1, got {raw!r}")
    return value


@dataclass(frozen=True)
class LaunchSettings:
    # The origin of events older than schema v3, which carry none.
    default_origin: str = setting("BINDEROPS_DEFAULT_ORIGIN", "mybinder.org")
    max_event_bytes: int = setting("BINDEROPS_MAX_EVENT_BYTES", 64 * 1024)
    launch_topic: str = setting("BINDEROPS_LAUNCH_TOPIC", "launch-events")
    # A member's launches for a day below (1 - this) of its trailing 7-day median are a drop.
    freshness_drop: float = setting("BINDEROPS_FRESHNESS_DROP", 0.5, parse=fraction)
    # Off Google Cloud, freshness findings are posted to this notify_incident_http URL (with
    # its ?token=); in production an alert policy on the freshness metric does it.
    freshness_alert_url: str = setting("BINDEROPS_FRESHNESS_ALERT_URL", secret=True, parse=url)

    def check(self) -> None:
        if self.max_event_bytes <= 0:
            raise ConfigError("BINDEROPS_MAX_EVENT_BYTES must be positive")
