"""What launch ingestion reads from its environment."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import setting
from ..errors import ConfigError


@dataclass(frozen=True)
class LaunchSettings:
    # The origin of events older than schema v3, which carry none.
    default_origin: str = setting("BINDEROPS_DEFAULT_ORIGIN", "mybinder.org")
    max_event_bytes: int = setting("BINDEROPS_MAX_EVENT_BYTES", 64 * 1024)
    launch_topic: str = setting("BINDEROPS_LAUNCH_TOPIC", "launch-events")

    def check(self) -> None:
        if self.max_event_bytes <= 0:
            raise ConfigError("BINDEROPS_MAX_EVENT_BYTES must be positive")
