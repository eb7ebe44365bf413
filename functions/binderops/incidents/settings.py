"""What incident notification reads from its environment."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..core.config import setting
from ..core.errors import ConfigError

CHAT_KINDS = ("zulip", "slack", "matrix", "file")


def chat_webhooks(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    """``kind=url`` pairs, each URL checked here rather than at the first notice; errors name
    the entry by its position, never its URL (which holds a secret)."""
    hooks = []
    for number, entry in enumerate((e.strip() for e in raw.split(",") if e.strip()), start=1):
        kind, sep, address = (part.strip() for part in entry.partition("="))
        if not sep or kind not in CHAT_KINDS or not address:
            raise ConfigError(
                f"{name} entry {number} must be KIND=URL with KIND one of {', '.join(CHAT_KINDS)}"
            )
        if kind != "file" and (problem := _web_address_problem(kind, address)):
            raise ConfigError(f"{name} entry {number} ({kind}): {problem}")
        hooks.append((kind, address))
    return tuple(hooks)


def _web_address_problem(kind: str, address: str) -> str:
    """What is wrong with a chat webhook's URL ("" when nothing), without quoting it."""
    try:
        parts = urlsplit(address)
        parts.port  # noqa: B018 - reading it raises ValueError for a port that is not a number
    except ValueError:
        return "the URL cannot be read"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "the URL must be https://HOST/…"
    if any(c.isspace() for c in address):
        return "the URL has white space in it"
    if kind == "zulip" and not (parts.username and parts.password):
        return "the URL must carry the bot's e-mail and API key: https://EMAIL:KEY@HOST/api/v1/messages"
    return ""


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
