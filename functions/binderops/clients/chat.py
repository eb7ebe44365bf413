"""Chat notices: Zulip, Slack-compatible incoming webhooks, Matrix, or a local file.

Configured as ``kind=url`` (``BINDEROPS_CHAT_WEBHOOKS``); the URL carries the credential,
so it is never logged — a sink is named by its kind and host only.

- ``zulip=https://BOT_EMAIL:API_KEY@zulip.example.org/api/v1/messages?stream=S&topic=T``
  (the e-mail's ``@`` written ``%40``): Zulip's send-message API with HTTP basic auth.
- ``slack=https://hooks.slack.com/services/…`` (or any Slack-compatible incoming webhook).
- ``matrix=https://matrix.example.org/_matrix/client/v3/rooms/ROOM_ID?access_token=TOKEN``:
  one ``m.room.message`` per notice; its transaction ID is derived from the notice, so a
  retried send is deduplicated by the homeserver.
- ``file=/path/chat.jsonl``: one JSON line per notice (the local stack's chat).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

import requests

from .http import RetryPolicy, call

CHAT_POLICY = RetryPolicy(attempts=3, timeout=(3.05, 10.0), backoff=0.5, max_wait=10.0)


@dataclass(frozen=True)
class Notice:
    key: str  # the same for every redelivery of one notification
    text: str  # Markdown (Zulip, Matrix, file); Slack gets it with its own link syntax
    links: tuple[tuple[str, str], ...] = ()


class Sink:
    kind = ""

    def __init__(
        self, url: str, session: requests.Session, policy: RetryPolicy = CHAT_POLICY
    ) -> None:
        self.url, self.session, self.policy = url, session, policy
        parts = urlsplit(url)
        self.name = f"{self.kind}:{parts.hostname or parts.path}"

    def send(self, notice: Notice) -> None:
        raise NotImplementedError


def _markdown(notice: Notice) -> str:
    return notice.text + "".join(f"\n[{label}]({url})" for label, url in notice.links)


class Zulip(Sink):
    kind = "zulip"

    def __init__(
        self, url: str, session: requests.Session, policy: RetryPolicy = CHAT_POLICY
    ) -> None:
        super().__init__(url, session, policy)
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.endpoint = urlunsplit(
            (
                parts.scheme,
                (parts.hostname or "") + (f":{parts.port}" if parts.port else ""),
                parts.path,
                "",
                "",
            )
        )
        self.stream, self.topic = query.get("stream", "general"), query.get("topic", "incidents")
        self.auth = (unquote(parts.username or ""), unquote(parts.password or ""))

    def send(self, notice: Notice) -> None:
        form = {
            "type": "stream",
            "to": self.stream,
            "topic": self.topic,
            "content": _markdown(notice),
        }
        call(
            self.session,
            "POST",
            self.endpoint,
            f"Zulip ({self.name})",
            self.policy,
            data=form,
            auth=self.auth,
        )


class Slack(Sink):
    kind = "slack"

    def send(self, notice: Notice) -> None:
        text = notice.text + "".join(f"\n<{url}|{label}>" for label, url in notice.links)
        call(
            self.session,
            "POST",
            self.url,
            f"Slack webhook ({self.name})",
            self.policy,
            json={"text": text},
        )


class Matrix(Sink):
    kind = "matrix"

    def __init__(
        self, url: str, session: requests.Session, policy: RetryPolicy = CHAT_POLICY
    ) -> None:
        super().__init__(url, session, policy)
        parts = urlsplit(url)
        self.room = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        self.headers = {
            "Authorization": f"Bearer {parse_qs(parts.query).get('access_token', [''])[0]}"
        }

    def send(self, notice: Notice) -> None:
        txn = hashlib.sha256(notice.key.encode()).hexdigest()[:32]
        body = {"msgtype": "m.notice", "body": _markdown(notice)}
        call(
            self.session,
            "PUT",
            f"{self.room}/send/m.room.message/{quote(txn)}",
            f"Matrix ({self.name})",
            self.policy,
            json=body,
            headers=self.headers,
        )


class File(Sink):
    kind = "file"
    _lock = threading.Lock()

    def send(self, notice: Notice) -> None:
        path = Path(self.url.removeprefix("file://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        line = (
            json.dumps(
                {"key": notice.key, "text": _markdown(notice), "at": time.time()},
                ensure_ascii=False,
            )
            + "\n"
        )
        with self._lock, open(path, "a") as f:
            f.write(line)


SINKS = {s.kind: s for s in (Zulip, Slack, Matrix, File)}


def sinks(
    configured: tuple[tuple[str, str], ...], session: requests.Session | None = None
) -> list[Sink]:
    session = session or requests.Session()
    return [SINKS[kind](url, session) for kind, url in configured]


@dataclass
class RateLimit:
    """A token bucket per alert policy: ``burst`` notices at once, then one per ``interval``.

    Lives in the instance (the function runs as one instance, see Terraform's
    ``max_instance_count``); what it holds back is counted and mentioned in the next notice.
    """

    burst: int = 4
    interval: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _held: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, policy: str) -> tuple[bool, int]:
        """Whether a notice for ``policy`` may go now, and how many were held back before it."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(policy, (float(self.burst), now))
            if self.interval > 0:
                tokens = min(float(self.burst), tokens + (now - last) / self.interval)
            else:
                tokens = float(self.burst)
            if tokens < 1:
                self._buckets[policy] = (tokens, now)
                self._held[policy] = self._held.get(policy, 0) + 1
                return False, 0
            self._buckets[policy] = (tokens - 1, now)
            return True, self._held.pop(policy, 0)
