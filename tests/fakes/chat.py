"""Zulip's send-message API, a Slack incoming webhook and a Matrix homeserver, on loopback.

Each checks the request exactly as its service would (auth, method, path, body fields)
and keeps the messages it accepted in ``messages[kind]``.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, unquote

from .http import Request, Response

ZULIP_AUTH = ("alerts-bot@zulip.example.org", "zulip-api-key-123")
MATRIX_TOKEN = "syt_matrix_token_456"
MATRIX_ROOM = "!incidents:example.org"
SLACK_PATH = "/services/T000/B000/slack-secret-789"


def webhooks(url: str) -> str:
    """``BINDEROPS_CHAT_WEBHOOKS`` for the three services behind ``url``."""
    host = url.removeprefix("http://")
    return ",".join(
        [
            f"zulip=http://alerts-bot%40zulip.example.org:{ZULIP_AUTH[1]}@{host}/api/v1/messages?stream=mybinder&topic=incidents",
            f"slack={url}{SLACK_PATH}",
            f"matrix={url}/_matrix/client/v3/rooms/{MATRIX_ROOM}?access_token={MATRIX_TOKEN}",
        ]
    )


class FakeChat:
    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {"zulip": [], "slack": [], "matrix": []}
        self.matrix_txns: set[str] = set()
        self.problems: list[str] = []
        self.down = False
        self.refused: list[str] = []  # paths answered 503 while down

    def _problem(self, text: str, status: int = 400) -> Response:
        self.problems.append(text)
        return Response(status, {"error": text})

    def __call__(self, request: Request) -> Response:
        if self.down:
            self.refused.append(request.path)
            return Response(503, {"error": "down for maintenance"})
        if request.path == "/api/v1/messages":
            expected = "Basic " + base64.b64encode(":".join(ZULIP_AUTH).encode()).decode()
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
            if request.method != "POST" or request.headers.get("authorization") != expected:
                return self._problem("zulip: bad method or credentials", 401)
            if form.keys() != {"type", "to", "topic", "content"} or (
                form["type"],
                form["to"],
                form["topic"],
            ) != ("stream", "mybinder", "incidents"):
                return self._problem(f"zulip: bad form {sorted(form)}")
            self.messages["zulip"].append(form["content"])
            return Response(
                200, {"result": "success", "msg": "", "id": len(self.messages["zulip"])}
            )
        if request.path == SLACK_PATH:
            body = request.json()
            if (
                request.method != "POST"
                or list(body) != ["text"]
                or not request.headers.get("content-type", "").startswith("application/json")
            ):
                return self._problem("slack: bad request")
            self.messages["slack"].append(body["text"])
            return Response(200, b"ok", {"Content-Type": "text/plain"})
        if m := re.fullmatch(
            r"/_matrix/client/v3/rooms/(?P<room>[^/]+)/send/m\.room\.message/(?P<txn>[^/]+)",
            request.path,
        ):
            if (
                request.method != "PUT"
                or request.headers.get("authorization") != f"Bearer {MATRIX_TOKEN}"
                or request.query
            ):
                return self._problem("matrix: bad method, token or query", 401)
            if unquote(m["room"]) != MATRIX_ROOM:
                return self._problem(f"matrix: wrong room {m['room']}", 404)
            body = request.json()
            if body.keys() != {"msgtype", "body"} or body["msgtype"] != "m.notice":
                return self._problem("matrix: bad event content")
            if m["txn"] not in self.matrix_txns:  # a homeserver deduplicates by transaction ID
                self.matrix_txns.add(m["txn"])
                self.messages["matrix"].append(body["body"])
            return Response(200, {"event_id": f"$e{len(self.matrix_txns)}"})
        return self._problem(f"no route {request.method} {request.path}", 404)
