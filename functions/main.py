"""Cloud Functions entry points. Each adapts transport to one function of ``binderops``."""

import functions_framework
from cloudevents.http import CloudEvent

from binderops import instance, launches, logs
from binderops.pubsub import message_from_event

logs.setup()


@functions_framework.cloud_event
def ingest_launch(cloud_event: CloudEvent) -> None:
    """Store one BinderHub launch event from Pub/Sub; raising asks Pub/Sub to redeliver."""
    settings = instance.settings()
    launches.ingest(
        message_from_event(cloud_event.get_data(), cloud_event["id"]),
        instance.warehouse(),
        default_origin=settings.default_origin,
        max_bytes=settings.max_event_bytes,
    )
