"""Alerts → incident reports on GitHub, chat notices and the public ``incidents`` table.

Stateless and safe to repeat: the report is found again by the ``incident_id`` marker in
its body, the close comment by its marker, the chat notices by a marker the report gets
once they went out. Every step that already happened is skipped, so a redelivery, or a
retry after a partial failure, finishes the job without doing anything twice.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from ..clients.chat import Notice, RateLimit, Sink
from ..clients.github import comment_once
from ..clients.http import Rejected, Unavailable, create_once
from ..core.locks import KeyedLocks
from ..core.seams import MetricsRecorder
from ..warehouse import Warehouse, schemas
from . import reports
from .alerts import Alert

log = logging.getLogger("binderops.incidents")

LABEL, TEST_LABEL, POSTMORTEM_LABEL = "incident", "incident-test", "postmortem-needed"
# An incident's report is never older than the incident (allow for clock skew).
SEARCH_SLACK = timedelta(days=1)


class Issues(Protocol):
    """The part of GitHub's issue API incident reports use (``clients.github.GitHub`` has it)."""

    def issues(self, repo: str, label: str): ...
    def create_issue(self, repo: str, title: str, body: str, labels: list[str]) -> dict: ...
    def update_issue(self, repo: str, number: int, **fields: Any) -> dict: ...
    def comments(self, repo: str, number: int): ...
    def comment(self, repo: str, number: int, body: str) -> dict: ...


@dataclass
class Notifier:
    """Handles notifications for one instance: where reports go, which chats hear of them."""

    issues: Issues | None
    repo: str
    sinks: list[Sink]
    rate_limit: RateLimit
    warehouse: Warehouse | None = None
    close_issue: bool = False
    metrics: MetricsRecorder | None = None  # open_incidents after each record
    # Notices sent by this instance, so a retry after GitHub failed does not repeat them.
    _sent: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Concurrent deliveries of one incident's notifications wait for each other: each then
    # sees what the previous one did. (Terraform runs this function as a single instance.)
    _incidents: KeyedLocks = field(default_factory=KeyedLocks)

    def handle(self, alert: Alert) -> dict:
        """Report, notify, record. Raises Unavailable (after doing all it could) when a
        transient failure means a retry is needed; the retry skips what succeeded."""
        with self._incidents(alert.incident_id):
            return self._handle(alert)

    def _handle(self, alert: Alert) -> dict:
        # Transient failures are retried (by raising at the end); a refusal (a 4xx: a wrong
        # token, a missing repository) would only be refused again, so it is logged instead.
        failures: list[str] = []
        issue, refused = None, False
        issues = self.issues if self.repo else None
        if issues is not None:
            try:
                issue = self._report(issues, alert)
            except Unavailable as e:
                failures.append(str(e))
            except Rejected as e:
                log.error("incident %s: the report was refused: %s", alert.key, e)
                refused = True
        chatted = self._chat(alert, issue, failures)
        if (
            issues
            and issue is not None
            and chatted
            and reports.chat_marker(alert) not in issue["body"]
        ):
            try:
                issue = issues.update_issue(
                    self.repo,
                    issue["number"],
                    body=f"{issue['body'].rstrip()}\n{reports.chat_marker(alert)}\n",
                )
            except Unavailable as e:
                failures.append(str(e))
            except Rejected as e:
                log.error("incident %s: marking the chat notice was refused: %s", alert.key, e)
        recorded = False
        if (
            self.warehouse is not None
            and not alert.test
            and (issue is not None or refused or self.issues is None)
        ):
            self.warehouse.insert("incident_notifications", [incident_row(alert, issue)])
            recorded = True
            if self.metrics is not None:
                [row] = self.warehouse.query(schemas.sql("open_incidents"))
                self.metrics.set("open_incidents", {}, row["open"])
        result = {
            "incident": alert.incident_id,
            "state": alert.state,
            "test": alert.test,
            "issue": issue["html_url"] if issue else None,
            "chat": chatted,
            "recorded": recorded,
        }
        if failures:
            raise Unavailable("; ".join(failures))
        return result

    # GitHub
    def _find(self, issues: Issues, alert: Alert) -> dict | None:
        oldest = (alert.started or alert.ended or datetime.now(UTC)) - SEARCH_SLACK
        for issue in issues.issues(self.repo, TEST_LABEL if alert.test else LABEL):
            match = reports.MARKER.search(issue.get("body") or "")
            if match and match.group(1) == reports.marker_id(alert.incident_id):
                return issue
            created = issue.get("created_at")
            if created and alert.started and datetime.fromisoformat(created) < oldest:
                return None  # newest first: everything further is older than this incident
        return None

    def _report(self, issues: Issues, alert: Alert) -> dict:
        issue = self._find(issues, alert)
        if issue is None:
            issue = create_once(
                lambda: issues.create_issue(
                    self.repo,
                    reports.title(alert),
                    reports.body(alert),
                    [TEST_LABEL if alert.test else LABEL],
                ),
                lambda: self._find(issues, alert),
                f"incident {alert.key}: opening its report",
            )
            log.info("opened report #%s for incident %s", issue["number"], alert.incident_id)
        marker = reports.closed_marker(alert)
        if alert.state != "closed" or marker in issue["body"]:
            return issue
        comment_once(issues, self.repo, issue["number"], marker, reports.close_comment(alert))
        labels = [label["name"] for label in issue.get("labels", [])]
        fields: dict[str, Any] = {
            "body": reports.with_close(issue["body"], alert),
            "labels": labels + [POSTMORTEM_LABEL] * (POSTMORTEM_LABEL not in labels),
        }
        if self.close_issue:
            fields["state"] = "closed"
        log.info("closed incident %s on report #%s", alert.incident_id, issue["number"])
        return issues.update_issue(self.repo, issue["number"], **fields)

    # Chat
    def _chat(self, alert: Alert, issue: dict | None, failures: list[str]) -> bool:
        """Post the notice to every sink that has not had it; True when all have."""
        if issue is not None and reports.chat_marker(alert) in issue["body"]:
            return True
        pending = [s for s in self.sinks if (alert.key, s.name) not in self._sent]
        if not pending:
            return True
        allowed, held = self.rate_limit.take(alert.policy)
        if not allowed:
            log.warning(
                "chat notice for %s held back: more than %d for policy %r this minute",
                alert.key,
                self.rate_limit.burst,
                alert.policy,
            )
            return True
        notice = chat_notice(alert, issue, held)
        ok = True
        for sink in pending:
            try:
                sink.send(notice)
                self._remember((alert.key, sink.name))
            except Unavailable as e:
                if e.maybe_done:
                    # The chat may have posted it, and a webhook offers no way to look: at
                    # most once rather than twice.
                    log.warning(
                        "incident %s: %s may have the notice (%s); a chat webhook cannot be "
                        "asked what it posted, so it is not resent",
                        alert.key,
                        sink.name,
                        e,
                    )
                    self._remember((alert.key, sink.name))
                    continue
                failures.append(str(e))
                ok = False
            except Rejected as e:
                log.error("incident %s: %s refused the notice: %s", alert.key, sink.name, e)
                ok = False
        return ok

    def _remember(self, key: tuple) -> None:
        with self._lock:
            self._sent[key] = True
            while len(self._sent) > 10_000:
                self._sent.popitem(last=False)


def chat_notice(alert: Alert, issue: dict | None, held: int = 0) -> Notice:
    """The chat notice: every field from the alert defused (no mention, link or markup)."""
    prefix = "[test] " if alert.test else ""
    what = f"**{reports.defuse(alert.policy)}**"
    if alert.condition:
        what += f" — {reports.defuse(alert.condition)}"
    if alert.severity:
        what += f" ({reports.defuse(alert.severity)})"
    if alert.state == "open":
        summary = reports.defuse(" ".join(alert.summary.split()))
        text = f"{prefix}🔥 Incident opened: {what}\n{summary}"
    else:
        text = (
            f"{prefix}✅ Incident closed after {reports.duration(alert.duration_seconds)}: {what}"
        )
    if held:
        text += f"\n({held} earlier notice{'s' * (held > 1)} for this policy held back by the rate limit)"
    links = [("incident report", issue["html_url"])] if issue else []
    links += [("Cloud Monitoring", alert.url)] if reports.plain_url(alert.url) else []
    return Notice(key=alert.key, text=text, links=tuple(links))


class IncidentRow(NamedTuple):
    """A row of ``incident_notifications`` (``schemas/bigquery/incident_notifications.json``)."""

    notification_id: str
    incident_id: str
    state: str
    policy: str
    condition: str | None
    started: datetime | None
    ended: datetime | None
    issue_url: str | None
    received_at: datetime


def incident_row(alert: Alert, issue: dict | None) -> IncidentRow:
    return IncidentRow(
        notification_id=alert.key,
        incident_id=alert.incident_id,
        state=alert.state,
        policy=alert.policy,
        condition=alert.condition or None,
        started=alert.started,
        ended=alert.ended,
        issue_url=issue["html_url"] if issue else None,
        received_at=datetime.now(UTC),
    )
