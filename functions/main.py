"""Cloud Functions entry points. Each adapts transport to one function of ``binderops``.

The package raises two kinds of error (``binderops.core.errors``) and these map them: a
CloudEvent function raises ``Retry`` (Pub/Sub redelivers) and logs and acknowledges
``Drop``; an HTTP function answers 503 for ``Retry`` and 4xx for ``Drop``.
"""

import json

import flask  # already loaded by functions-framework
import functions_framework
from cloudevents.http import CloudEvent

from binderops import instance
from binderops.clients import pubsub
from binderops.core import logs
from binderops.core.clock import today_in
from binderops.core.errors import Drop, Retry

logs.setup()


@functions_framework.cloud_event
def ingest_launch(cloud_event: CloudEvent) -> None:
    """Store one BinderHub launch event from Pub/Sub; raising asks Pub/Sub to redeliver."""
    from binderops.launches.ingest import ingest_delivery
    from binderops.launches.settings import LaunchSettings

    settings = instance.settings(LaunchSettings)
    ingest_delivery(
        cloud_event.get_data(),
        cloud_event["id"],
        instance.warehouse(),
        settings,
        instance.metrics(),
    )


@functions_framework.cloud_event
def export_costs(cloud_event: CloudEvent) -> None:
    """Recompute recent days of cloud cost and publish them; fired daily by Cloud Scheduler.

    The message may be ``{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}`` for a manual re-run.
    """
    from binderops.costs import export
    from binderops.costs.settings import CostSettings

    request = pubsub.json_data(cloud_event.get_data())
    try:
        result, location = export.run(
            instance.warehouse(),
            instance.settings(CostSettings),
            instance.settings(),
            request,
            metrics=instance.metrics(),
        )
    except Drop as e:
        logs.log.error("export_costs: %s", e, extra={"kind": e.kind})
        return
    logs.log.info(
        "export_costs: replaced %s..%s with %d rows, net %s; published %s",
        result.window.first,
        result.window.last,
        result.rows,
        result.net_micros,
        location,
    )


@functions_framework.cloud_event
def publish_archive(cloud_event: CloudEvent) -> None:
    """Publish the days of launches that changed to the public archive, then check the
    latest day's freshness; fired daily by Cloud Scheduler. The message may be
    ``{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}`` to re-publish a range."""
    from binderops.launches import archive

    request = pubsub.json_data(cloud_event.get_data())
    try:
        result = archive.publish(
            instance.warehouse(), instance.settings(), request, today_in("UTC")
        )
    except Drop as e:
        logs.log.error("publish_archive: %s", e, extra={"kind": e.kind})
        return
    logs.log.info("publish_archive: %s", result.summary())
    from binderops import dashboard
    from binderops.costs.settings import CostSettings

    currency = instance.settings(CostSettings).currency
    page = dashboard.publish(instance.warehouse(), instance.settings(), today_in("UTC"), currency)
    logs.log.info("publish_archive: dashboard at %s", page)
    check_freshness(cloud_event)


@functions_framework.cloud_event
def publish_live(cloud_event: CloudEvent) -> None:
    """Rewrite the dashboard's live.json (the last hour); fired every minute by Cloud Scheduler."""
    from datetime import UTC, datetime

    from binderops import dashboard

    dashboard.write_live(instance.warehouse(), instance.settings(), datetime.now(UTC))


@functions_framework.cloud_event
def check_freshness(cloud_event: CloudEvent) -> None:
    """Check the latest complete day's launches per federation member; fired daily by Cloud
    Scheduler where the archive is not published (publish_archive checks after publishing)."""
    from binderops.launches import freshness
    from binderops.launches.settings import LaunchSettings

    launches, project = instance.settings(LaunchSettings), instance.settings().project
    freshness.run(
        instance.warehouse(),
        launches,
        instance.metrics(),
        project,
        incidents=instance.incidents(),
        members=instance.members(),
    )


@functions_framework.cloud_event
def probe_members(cloud_event: CloudEvent) -> None:
    """Probe every member of the federation register for the tick's minute, open and close
    health incidents, and rebuild the status page; fired each minute by Cloud Scheduler. A
    redelivered tick is the same round and probes nothing again."""
    from datetime import timedelta

    from binderops.federation import rounds, status
    from binderops.federation.settings import FederationSettings

    minute = rounds.tick_minute(cloud_event.get_data(), cloud_event.get("time"))
    members = instance.members()
    result = rounds.run(
        minute,
        members,
        instance.warehouse(),
        instance.settings(FederationSettings),
        instance.health_incidents(),
        instance.metrics(),
        instance.settings().project,
    )
    down = [r.member for r in result.rows if not r.up]
    logs.log.info(
        "probe_members %s: %d member(s) probed, down: %s",
        minute,
        len(result.rows),
        ", ".join(down) or "none",
    )
    status.publish(
        instance.warehouse(), members, instance.settings(), minute + timedelta(minutes=1)
    )


@functions_framework.http
def usage_badge(request: flask.Request):
    """An SVG badge of one repository's launches (``?repo=owner/name&period=30d``) or of a
    federation member's uptime (``?member=NAME&metric=uptime&period=30d``)."""
    from binderops.core.badge import SAFE_HEADERS
    from binderops.launches import badges

    if request.path != "/":  # the badge's one address: nothing else answers there
        return {"error": "badges are at /?repo=OWNER/NAME"}, 404, SAFE_HEADERS
    if request.method not in ("GET", "HEAD"):
        return {"error": "badges answer GET"}, 405, SAFE_HEADERS
    try:
        if "member" in request.args:  # a federation member's uptime
            from datetime import UTC, datetime

            from binderops.federation import badge as uptime

            now = datetime.now(UTC)
            badge = uptime.answer(request.args, instance.uptimes(), now)
        else:
            badge = badges.answer(request.args, instance.badge_counts(), today_in("UTC"))
    except Retry as e:
        logs.log.error("usage_badge: %s", e, extra={"kind": e.kind})
        return {"error": "the warehouse is unavailable; retry"}, 503, SAFE_HEADERS
    return badge.svg, badge.status, badge.headers


@functions_framework.http
def github_webhook(request: flask.Request):
    """Start staged deploys from GitHub ``push``, ``pull_request`` and ``issue_comment`` webhooks."""
    from binderops.deploys import webhooks
    from binderops.deploys.settings import DeploySettings

    deploys = instance.settings(DeploySettings)
    rules = webhooks.Rules.from_settings(deploys, instance.settings().incident_repo)
    reply = webhooks.handle(
        request.headers,
        request.stream,
        request.content_length,
        deploys.webhook_secret,
        rules,
        lambda: instance.deployer(webhook=True),
    )
    if reply.unread:
        # Refused with its body unread: functions-framework reads (and keeps) a whole body
        # before answering, unless the answer streams. An unsigned 25 MiB post stays unread.
        body = json.dumps(reply.body)
        return flask.Response(iter([body]), reply.status, mimetype="application/json")
    return reply.body, reply.status


@functions_framework.cloud_event
def deploy_status(cloud_event: CloudEvent) -> None:
    """Follow a build on Cloud Build's ``cloud-builds`` topic: GitHub status, record, next stage."""
    from binderops.deploys.builds import Build

    build = Build.from_resource(pubsub.json_data(cloud_event.get_data()))
    try:
        summary = instance.deployer().follow(build)
    except Drop as e:  # e.g. the incident repository does not exist: retrying cannot help
        logs.log.error(
            "deploy_status: build %s: %s; acknowledged", build.id, e, extra={"kind": e.kind}
        )
        return
    logs.log.info("deploy_status: %s", summary)


@functions_framework.cloud_event
def notify_incident(cloud_event: CloudEvent) -> None:
    """A Cloud Monitoring notification from a Pub/Sub channel → incident report, chat, record."""
    from binderops.incidents import alerts

    try:
        result = instance.notifier().handle(alerts.parse(pubsub.json_data(cloud_event.get_data())))
    except Drop as e:
        logs.log.error(
            "notify_incident: %s; message %s acknowledged",
            e,
            cloud_event["id"],
            extra={"kind": e.kind},
        )
        return
    logs.log.info("notify_incident: %s", result)


@functions_framework.http
def notify_incident_http(request: flask.Request):
    """The same from a webhook channel: token auth (``?token=``) or HTTP basic auth."""
    from binderops.incidents import alerts
    from binderops.incidents.settings import IncidentSettings

    incidents = instance.settings(IncidentSettings)
    token, authorization = request.args.get("token"), request.headers.get("Authorization")
    if not alerts.authorized(
        token, authorization, incidents.alert_token, incidents.alert_basic_auth
    ):
        return {"error": "missing or wrong token or credentials"}, 401
    try:
        result = instance.notifier().handle(alerts.parse(request.get_data()))
    except Retry as e:
        logs.log.error("notify_incident_http: %s", e, extra={"kind": e.kind})
        return {"error": "a downstream service is unavailable; retry"}, 503
    except Drop as e:
        return {"error": str(e)}, 400
    return result, 200
