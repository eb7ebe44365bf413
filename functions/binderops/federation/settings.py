"""What federation health reads from its environment (the members come from the register,
``BINDEROPS_MEMBERS``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.config import setting
from ..core.errors import ConfigError


def _fraction(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if not 0 <= value <= 1:
        raise ConfigError(f"{name} must be between 0 and 1, got {raw!r}")
    return value


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0 seconds, got {raw!r}")
    return value


@dataclass(frozen=True)
class FederationSettings:
    # Each request of a probe (/health, /versions, /metrics) waits this long at most.
    probe_timeout: float = setting("BINDEROPS_PROBE_TIMEOUT_SECONDS", 5.0, parse=_seconds)
    # A whole round ends by then: a member still silent is a failed probe.
    round_budget: float = setting("BINDEROPS_PROBE_ROUND_SECONDS", 20.0, parse=_seconds)
    # Down after this many failed probes in a row; up again after this many good ones.
    down_after: int = setting("BINDEROPS_DOWN_AFTER_PROBES", 3)
    up_after: int = setting("BINDEROPS_UP_AFTER_PROBES", 2)
    # Launch success over 30 minutes below this (with at least min_launches) is an incident.
    success_threshold: float = setting("BINDEROPS_LAUNCH_SUCCESS_THRESHOLD", 0.8, parse=_fraction)
    min_launches: int = setting("BINDEROPS_LAUNCH_SUCCESS_MIN_LAUNCHES", 10)
    # The member whose /versions the others should match; empty: the register's first.
    reference: str = setting("BINDEROPS_REFERENCE_MEMBER")
    # Where incidents go (notify_incident_http); empty: Cloud Monitoring's alert policies.
    alert_url: str = setting("BINDEROPS_HEALTH_ALERT_URL")

    def check(self) -> None:
        if self.down_after < 1 or self.up_after < 1:
            raise ConfigError(
                "BINDEROPS_DOWN_AFTER_PROBES and BINDEROPS_UP_AFTER_PROBES must be at least 1"
            )
        if self.probe_timeout >= self.round_budget:
            raise ConfigError(
                "BINDEROPS_PROBE_TIMEOUT_SECONDS must be shorter than BINDEROPS_PROBE_ROUND_SECONDS"
            )
