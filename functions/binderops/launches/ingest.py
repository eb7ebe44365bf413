"""Pub/Sub → rows: one delivered message becomes one row of ``launches`` or of ``launch_errors``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..core.seams import MetricsRecorder
from ..warehouse import Warehouse
from .events import InvalidEvent, LaunchErrorRow, decode, error_payload, redact, to_row
from .settings import LaunchSettings

log = logging.getLogger("binderops.launches")


@dataclass(frozen=True)
class Message:
    """A Pub/Sub message as delivered: base64 ``data``, attributes and id."""

    data: str
    attributes: Mapping[str, str]
    message_id: str

    @property
    def event_id(self) -> str:
        """The publisher's ``event_id`` attribute, else the Pub/Sub message id.

        Never derived from the content: two launches of one repo in one minute are
        identical after truncation, and both must count.
        """
        return self.attributes.get("event_id") or self.message_id


@dataclass(frozen=True)
class Outcome:
    """What ingesting one message did: ``stored`` or ``rejected`` (with the reason)."""

    status: str
    event_id: str
    reason: str = ""


def message_from_event(data: Any, event_id: str) -> Message:
    """The Pub/Sub message inside a ``messagePublished`` CloudEvent's data.

    A delivery without the expected shape still yields a Message (with empty data, which
    fails decoding with a clear reason) so it is recorded rather than retried forever.
    """
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict):
        return Message(data="", attributes={}, message_id=event_id)
    attributes = message.get("attributes")
    if not isinstance(attributes, dict):
        attributes = {}
    payload = message.get("data")
    return Message(
        data=payload if isinstance(payload, str) else "",
        attributes={str(k): str(v) for k, v in attributes.items()},
        message_id=str(message.get("messageId") or message.get("message_id") or event_id),
    )


def ingest(
    message: Message,
    warehouse: Warehouse,
    default_origin: str,
    max_bytes: int,
    now: datetime | None = None,
    metrics: MetricsRecorder | None = None,
) -> Outcome:
    """Store one Pub/Sub message: a ``launches`` row, or a ``launch_errors`` row with the reason.

    Idempotent on ``event_id``. A warehouse failure propagates, so Pub/Sub redelivers.
    """
    now = now or datetime.now(UTC)
    event_id = message.event_id
    try:
        row = to_row(decode(message.data, max_bytes), event_id, now, default_origin)
    except InvalidEvent as e:
        reason = redact(str(e), 500)  # the reason may quote the payload
        error = LaunchErrorRow(event_id, now, reason, error_payload(message.data))
        warehouse.insert("launch_errors", [error])
        log.warning("rejected launch event %s: %s", event_id, reason, extra={"kind": e.kind})
        if metrics is not None:
            metrics.add("rejected_launches", {"reason": e.kind})
        return Outcome("rejected", event_id, reason)
    warehouse.insert("launches", [row])
    log.info("stored launch event %s", event_id)
    if metrics is not None:
        labels = {"origin": row.origin, "provider": row.provider, "status": row.status}
        metrics.add("launches", {k: v or "unknown" for k, v in labels.items()})
    return Outcome("stored", event_id)


def ingest_delivery(
    data: Any,
    delivery_id: str,
    warehouse: Warehouse,
    settings: LaunchSettings,
    metrics: MetricsRecorder | None = None,
) -> Outcome:
    """Store the launch event a ``messagePublished`` CloudEvent's data carries (see ``ingest``)."""
    return ingest(
        message_from_event(data, delivery_id),
        warehouse,
        default_origin=settings.default_origin,
        max_bytes=settings.max_event_bytes,
        metrics=metrics,
    )
