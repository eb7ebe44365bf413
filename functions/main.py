"""Cloud Functions entry points. Each adapts transport to one function of ``binderops``."""

import functions_framework
from cloudevents.http import CloudEvent

from binderops import costs, instance, logs, pubsub
from binderops.sql import QueryError

logs.setup()


@functions_framework.cloud_event
def ingest_launch(cloud_event: CloudEvent) -> None:
    """Store one BinderHub launch event from Pub/Sub; raising asks Pub/Sub to redeliver."""
    pubsub.ingest_cloudevent(cloud_event, instance.warehouse(), instance.settings())


@functions_framework.cloud_event
def export_costs(cloud_event: CloudEvent) -> None:
    """Recompute recent days of cloud cost and publish them; fired daily by Cloud Scheduler.

    The message may be ``{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}`` for a manual
    re-run. A request that cannot be honoured is logged and acknowledged, not retried.
    """
    try:
        request = pubsub.json_data(cloud_event.get_data())
        result, location = costs.run(instance.warehouse(), instance.settings(), request)
    except (costs.ExportRequestError, costs.MemberCostsError, QueryError) as e:
        logs.log.error("export_costs: %s", e)
        return
    logs.log.info(
        "export_costs: replaced %s..%s with %d rows, net %s; published %s",
        result.window.first, result.window.last, result.rows, result.net_micros, location,
    )
