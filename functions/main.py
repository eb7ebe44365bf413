"""Cloud Functions entry points. Each adapts transport to one function of ``binderops``."""

import flask  # already loaded by functions-framework
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


@functions_framework.http
def github_webhook(request: flask.Request):
    """Start staged deploys from GitHub ``push``, ``pull_request`` and ``issue_comment`` webhooks."""
    from binderops import webhooks

    if (request.content_length or 0) > webhooks.MAX_BODY_BYTES:
        return {"error": "payload larger than 25 MiB"}, 413
    body = request.stream.read(webhooks.MAX_BODY_BYTES + 1)
    if len(body) > webhooks.MAX_BODY_BYTES:
        return {"error": "payload larger than 25 MiB"}, 413
    current = instance.settings()
    rules = webhooks.Rules.from_settings(current)
    reply = webhooks.handle(request.headers, body, current.github_webhook_secret, rules, instance.deployer(webhook=True))
    return reply.body, reply.status


@functions_framework.cloud_event
def deploy_status(cloud_event: CloudEvent) -> None:
    """Follow a build on Cloud Build's ``cloud-builds`` topic: GitHub status, record, next stage."""
    from binderops.builds import Build
    from binderops.clients import Rejected

    build = Build.from_resource(pubsub.json_data(cloud_event.get_data()))
    if not build.is_deploy:
        logs.log.info("deploy_status: build %s is not a binderops deploy; ignored", build.id or "(no id)")
        return
    try:
        done = instance.deployer().on_build(build)
    except Rejected as e:  # e.g. the incident repository does not exist: retrying cannot help
        logs.log.error("deploy_status: build %s: %s; acknowledged", build.id, e)
        return
    logs.log.info("deploy_status: build %s (%s %s) %s: %s", build.id, build.environment, build.sha[:12], build.status,
                  "; ".join(done) or "nothing to do")  # fmt: skip


@functions_framework.cloud_event
def notify_incident(cloud_event: CloudEvent) -> None:
    """A Cloud Monitoring notification from a Pub/Sub channel → incident report, chat, record."""
    from binderops import alerts

    try:
        alert = alerts.parse(pubsub.json_data(cloud_event.get_data()))
    except alerts.InvalidAlert as e:
        logs.log.error("notify_incident: %s; message %s acknowledged", e, cloud_event["id"])
        return
    result = instance.notifier().handle(alert)
    logs.log.info("notify_incident: %s", result)


@functions_framework.http
def notify_incident_http(request: flask.Request):
    """The same from a webhook channel: token auth (``?token=``) or HTTP basic auth."""
    from binderops import alerts
    from binderops.clients import Unavailable

    current = instance.settings()
    if not alerts.authorized(request.args.get("token"), request.headers.get("Authorization"), current.alert_token, current.alert_basic_auth):
        return {"error": "missing or wrong token or credentials"}, 401
    try:
        result = instance.notifier().handle(alerts.parse(request.get_data()))
    except alerts.InvalidAlert as e:
        return {"error": str(e)}, 400
    except Unavailable as e:
        logs.log.error("notify_incident_http: %s", e)
        return {"error": "a downstream service is unavailable; retry"}, 503
    return result, 200
