"""Shared by the tests: a launch event as BinderHub v6 emits it, and Pub/Sub CloudEvents."""

import base64

from cloudevents.http import CloudEvent

V6 = {
    "timestamp": "2026-03-01T12:34:56.789Z",
    "schema": "binderhub.jupyter.org/launch",
    "version": 6,
    "provider": "GitHub",
    "spec": "binder-examples/requirements/HEAD",
    "ref": "50533eb",
    "status": "success",
    "build_token": False,
    "origin": "gesis.mybinder.org",
    "request_origin": "same-origin",
}


def pubsub_event(
    data: bytes, attributes=None, message_id="1981947010177954", topic="launch-events"
) -> CloudEvent:
    message = {
        "data": base64.b64encode(data).decode(),
        "messageId": message_id,
        "publishTime": "2026-03-01T12:35:00Z",
    }
    if attributes is not None:
        message["attributes"] = attributes
    return CloudEvent(
        {
            "id": message_id,
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": f"//pubsub.googleapis.com/projects/p/topics/{topic}",
        },
        {"message": message, "subscription": "projects/p/subscriptions/eventarc-sub"},
    )
