"""The one way another capability opens and closes an incident: freshness now, federation
health next. An ``Incident`` becomes the Cloud Monitoring notification (schema 1.2) that
``notify_incident`` already understands, so it takes the same path as a Monitoring alert:
the same report, issue, chat notice and ``incidents`` row, found again by its incident id,
so raising it twice (a redelivered tick, a re-run) opens nothing new.

Two raisers: ``Notifying`` hands the notification to this instance's notifier; ``Posting``
posts it to ``notify_incident_http`` through the one HTTP client, for a function that holds
no GitHub or chat credentials of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import requests

from ..clients.http import PATIENT, RetryPolicy, call


@dataclass(frozen=True)
class Incident:
    """What went wrong, said once: its id is the same for every raise of one incident."""

    incident_id: str
    policy: str  # what kind of problem: the report's and the chat notice's headline
    condition: str
    summary: str
    started: datetime
    resource: str = ""
    documentation: str = ""
    severity: str = "Warning"
    metric: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    project: str = ""

    def notification(self, ended: datetime | None = None) -> dict[str, Any]:
        """The Monitoring notification of its opening, or of its closing at ``ended``."""
        return {
            "version": "1.2",
            "incident": {
                "incident_id": self.incident_id,
                "scoping_project_id": self.project,
                "url": f"https://console.cloud.google.com/monitoring/alerting?project={self.project}",
                "severity": self.severity,
                "state": "open" if ended is None else "closed",
                "started_at": int(self.started.timestamp()),
                "ended_at": None if ended is None else int(ended.timestamp()),
                "resource_display_name": self.resource,
                "metric": {
                    "type": self.metric,
                    "displayName": self.metric.rsplit("/", 1)[-1],
                    "labels": dict(self.labels),
                },
                "policy_name": self.policy,
                "condition_name": self.condition,
                "threshold_value": "0",
                "observed_value": "1",
                "documentation": {
                    "content": self.documentation,
                    "mime_type": "text/markdown",
                    "subject": f"ALERT - {self.policy}",
                },
                "summary": self.summary,
            },
        }


class IncidentRaiser(Protocol):
    """Opens and closes incidents; each call is safe to repeat."""

    def open(self, incident: Incident) -> None: ...

    def close(self, incident: Incident, ended: datetime) -> None: ...


class _Raising:
    """Opening and closing, as notifications handed to ``_send``."""

    def _send(self, notification: dict) -> None:
        raise NotImplementedError

    def open(self, incident: Incident) -> None:
        self._send(incident.notification())

    def close(self, incident: Incident, ended: datetime) -> None:
        self._send(incident.notification(ended))


class Notifying(_Raising):
    """Through this instance's notifier: the report, issue and chat path, in process."""

    def __init__(self, notifier: Any) -> None:
        self.notifier = notifier  # incidents.notifier.Notifier

    def _send(self, notification: dict) -> None:
        from .alerts import parse

        self.notifier.handle(parse(notification))


class Posting(_Raising):
    """To ``notify_incident_http`` at ``url`` (its token in the query), through the one HTTP
    client. The endpoint finds an incident's report by its id, so a resend makes nothing new:
    the post is retried like any idempotent request."""

    def __init__(self, url: str, policy: RetryPolicy = PATIENT) -> None:
        self.url, self.policy = url, policy
        self.session = requests.Session()

    def _send(self, notification: dict) -> None:
        call(
            self.session,
            "POST",
            self.url,
            "notify_incident_http",
            self.policy,
            idempotent=True,
            json=notification,
        )
