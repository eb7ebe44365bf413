"""Pub/Sub messages as Cloud Functions deliver them (the data of a CloudEvent)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .config import Settings
from .launches import Message, Outcome, ingest


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


def ingest_cloudevent(cloud_event: Any, warehouse, settings: Settings) -> Outcome:
    """Store the launch event a ``messagePublished`` CloudEvent carries (see ``launches.ingest``)."""
    return ingest(
        message_from_event(cloud_event.get_data(), cloud_event["id"]),
        warehouse,
        default_origin=settings.default_origin,
        max_bytes=settings.max_event_bytes,
    )


def json_data(data: Any) -> dict:
    """The JSON object in a Pub/Sub CloudEvent's message (``{}`` when it carries none).

    Scheduler ticks carry any text; only a JSON object is read as a request.
    """
    message = data.get("message") if isinstance(data, dict) else None
    encoded = message.get("data") if isinstance(message, dict) else None
    if not isinstance(encoded, str) or not encoded:
        return {}
    try:
        value = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
