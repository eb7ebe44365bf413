"""Pub/Sub messages as Cloud Functions receive them: the data of a ``messagePublished``
CloudEvent, read here, and delivered here the same way on one machine."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from ..core.payloads import json_value


def json_data(data: Any) -> dict:
    """The JSON object in a Pub/Sub CloudEvent's message (``{}`` when it carries none).

    Scheduler ticks carry any text; only a JSON object is read as a request.
    """
    message = data.get("message") if isinstance(data, dict) else None
    encoded = message.get("data") if isinstance(message, dict) else None
    if not isinstance(encoded, str) or not encoded:
        return {}
    try:
        value = json_value(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def post_cloudevent(
    function_url: str, data: bytes, attributes: dict[str, str], project: str, topic: str
) -> None:
    """Deliver one Pub/Sub message to a function as Eventarc does: a binary-mode CloudEvent.

    The local deploy back end reports builds this way when no emulator runs; the local
    stack uses it too.
    """
    import requests
    from cloudevents.conversion import to_binary
    from cloudevents.http import CloudEvent

    from .http import PATIENT, call

    message_id = str(uuid.uuid4().int % 10**16)
    event = CloudEvent(
        {
            "id": message_id,
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": f"//pubsub.googleapis.com/projects/{project}/topics/{topic}",
        },
        {
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": attributes,
                "messageId": message_id,
            }
        },
    )
    headers, body = to_binary(event)
    # Pub/Sub redelivers what a function answers 5xx: so does this, through the one client.
    call(
        requests.Session(),
        "POST",
        function_url,
        "push delivery",
        PATIENT,
        idempotent=True,
        data=body,
        headers=headers,
    )
