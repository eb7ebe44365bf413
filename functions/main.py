"""Cloud Functions entry points. Each adapts transport to one function of ``binderops``."""

import functions_framework
from cloudevents.http import CloudEvent

from binderops import instance, logs, pubsub

logs.setup()


@functions_framework.cloud_event
def ingest_launch(cloud_event: CloudEvent) -> None:
    """Store one BinderHub launch event from Pub/Sub; raising asks Pub/Sub to redeliver."""
    pubsub.ingest_cloudevent(cloud_event, instance.warehouse(), instance.settings())
