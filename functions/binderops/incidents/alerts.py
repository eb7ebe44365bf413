"""Cloud Monitoring notifications (schema 1.2, and the console's test notification) as one record."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..core.errors import Drop
from ..core.payloads import TooDeep, json_value, mapping, text


class InvalidAlert(Drop):
    """Not a notification binderops can act on; the message says what is missing."""

    kind = "invalid_alert"


@dataclass(frozen=True)
class Alert:
    incident_id: str
    state: str  # open or closed
    policy: str
    condition: str
    started: datetime | None
    ended: datetime | None
    url: str
    summary: str
    documentation: str
    subject: str
    severity: str  # Critical, Error, Warning (schema 1.2); empty when not given
    links: tuple[tuple[str, str], ...]
    resource: str
    metric: str
    threshold: str
    observed: str
    project: str
    test: bool

    @property
    def duration_seconds(self) -> int | None:
        return (
            int((self.ended - self.started).total_seconds())
            if self.started and self.ended
            else None
        )

    @property
    def key(self) -> str:
        """One key per incident and state: what every redelivery shares."""
        return f"{self.incident_id}:{self.state}"


def _text(value: Any) -> str:
    return (
        ""
        if value is None
        else str(value)
        if not isinstance(value, (dict, list))
        else json.dumps(value)
    )


def _time(value: Any) -> datetime | None:
    """Unix seconds (int or numeric string); 0 (the test notification), null and anything
    no clock can show (1e400, the year 10^12) mean unknown."""
    try:
        seconds = int(float(value))
        return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def parse(body: bytes | str | dict) -> Alert:
    """The notification in a webhook body or Pub/Sub message; raises InvalidAlert."""
    if not isinstance(body, dict):
        try:
            body = json_value(body)
        except TooDeep as e:
            raise InvalidAlert(f"the notification is {e}") from None
        except (ValueError, UnicodeDecodeError):
            raise InvalidAlert("the notification is not JSON") from None
    incident = body.get("incident") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(incident, dict):
        raise InvalidAlert("the notification has no 'incident' object")
    incident_id = _text(incident.get("incident_id")).strip()
    if not incident_id:
        raise InvalidAlert("the incident has no incident_id")
    state = _text(incident.get("state")).strip().lower()
    if state not in ("open", "closed"):
        raise InvalidAlert(f"incident state must be open or closed, got {state or 'nothing'!r}")
    docs = incident.get("documentation")
    if not isinstance(docs, dict):  # the test notification sends a plain string
        docs = {"content": _text(docs)}
    links = tuple(
        (_text(link.get("displayName")) or _text(link.get("url")), _text(link.get("url")))
        for link in _list(docs.get("links"))
        if isinstance(link, dict) and link.get("url")
    )
    metric = mapping(incident, "metric")
    return Alert(
        incident_id=incident_id,
        state=state,
        policy=_text(incident.get("policy_name")) or "Unnamed alert policy",
        condition=_text(incident.get("condition_name"))
        or _text(text(incident, "condition", "displayName")),
        started=_time(incident.get("started_at")),
        ended=_time(incident.get("ended_at")),
        url=_text(incident.get("url")),
        summary=_text(incident.get("summary")),
        documentation=_text(docs.get("content")),
        subject=_text(docs.get("subject")),
        severity=_text(incident.get("severity")),
        links=links,
        resource=_text(incident.get("resource_display_name") or incident.get("resource_name")),
        metric=_text(metric.get("displayName") or metric.get("type")),
        threshold=_text(incident.get("threshold_value")),
        observed=_text(incident.get("observed_value")),
        project=_text(incident.get("scoping_project_id")),
        test=_text(body.get("version")) == "test",
    )


def authorized(
    token: str | None, authorization: str | None, expected_token: str, expected_basic: str
) -> bool:
    """The token-auth channel's ``token`` parameter or the basic-auth channel's credentials,
    compared in constant time. With neither configured, nothing is authorized."""
    if (
        expected_token
        and token is not None
        and hmac.compare_digest(token.encode(), expected_token.encode())
    ):
        return True
    if expected_basic and authorization and authorization[:6].lower() == "basic ":
        try:
            given = base64.b64decode(authorization[6:].strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, expected_basic.encode())
    return False
