"""What incident notification reads from its environment."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import setting
from ..errors import ConfigError

CHAT_KINDS = ("zulip", "slack", "matrix", "file")


def chat_webhooks(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    """``kind=url`` pairs; errors name the entry, never its URL (which holds a secret)."""
    hooks = []
    for number, entry in enumerate((e.strip() for e in raw.split(",") if e.strip()), start=1):
        kind, sep, address = entry.partition("=")
        if not sep or kind.strip() not in CHAT_KINDS or not address.strip():
            raise ConfigError(
                f"{name} entry {number} must be KIND=URL with KIND one of {', '.join(CHAT_KINDS)}"
            )
        hooks.append((kind.strip(), address.strip()))
    return tuple(hooks)


@dataclass(frozen=True)
class IncidentSettings:
    close_issue: bool = setting("BINDEROPS_INCIDENT_CLOSE_ISSUE", False)
    alert_token: str = setting("BINDEROPS_ALERT_TOKEN", secret=True)
    alert_basic_auth: str = setting("BINDEROPS_ALERT_BASIC_AUTH", secret=True)
    chat_webhooks: tuple[tuple[str, str], ...] = setting(
        "BINDEROPS_CHAT_WEBHOOKS", (), secret=True, parse=chat_webhooks
    )
    chat_burst: int = setting("BINDEROPS_CHAT_BURST", 4)
    chat_interval_seconds: int = setting("BINDEROPS_CHAT_INTERVAL_SECONDS", 60)

    def check(self) -> None:
        if self.alert_basic_auth and ":" not in self.alert_basic_auth:
            raise ConfigError("BINDEROPS_ALERT_BASIC_AUTH must be user:password")
        if self.chat_burst < 1 or self.chat_interval_seconds < 0:
            raise ConfigError(
                "BINDEROPS_CHAT_BURST must be positive, BINDEROPS_CHAT_INTERVAL_SECONDS not negative"
            )
