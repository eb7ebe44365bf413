"""``binderops send``: post realistic, correctly signed requests to the local stack.

``binderops run`` writes where its functions listen (and the per-run webhook secret and
alert token) to ``STATE_DIR/stack.json``; ``send`` reads it, so a newcomer can type
``binderops send github-push`` and watch a deploy flow through.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import uuid
from pathlib import Path

import requests

STACK_FILE = "stack.json"
SAMPLE_REPO = "binder-examples/federation-deploy"


def write_stack(state_dir: Path, info: dict) -> Path:
    """Record the running stack's endpoints and per-run secrets, readable by this user only."""
    path = Path(state_dir) / STACK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(info, f, indent=1)
    return path


def read_stack(state_dir: Path) -> dict:
    path = Path(state_dir) / STACK_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no running stack recorded in {path}: start one with `binderops run` (or pass --url)"
        ) from None


def push_event(
    repo: str, sha: str, branch: str = "main", files: tuple[str, ...] = ("mybinder/values.yaml",)
) -> dict:
    """A ``push`` webhook payload as GitHub sends it (the fields binderops reads, and a few more)."""
    commit = {
        "id": sha,
        "message": "Bump BinderHub chart",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "author": {"name": "A Contributor", "username": "contributor"},
        "added": [],
        "removed": [],
        "modified": list(files),
    }
    return {
        "ref": f"refs/heads/{branch}",
        "before": "0" * 39 + "1",
        "after": sha,
        "created": False,
        "deleted": False,
        "forced": False,
        "repository": {"full_name": repo, "default_branch": branch},
        "pusher": {"name": "contributor"},
        "head_commit": commit,
        "commits": [commit],
    }


def signed_webhook(
    secret: str, event: str, payload: dict, delivery: str = ""
) -> tuple[bytes, dict[str, str]]:
    """Body and headers as GitHub sends them: JSON, event and delivery headers, HMAC-SHA256 signature."""
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/binderops-send",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256="
        + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    return body, headers


def post_webhook(
    url: str, secret: str, event: str, payload: dict, delivery: str = ""
) -> requests.Response:
    """POST ``payload`` to ``url`` as GitHub would."""
    body, headers = signed_webhook(secret, event, payload, delivery)
    return requests.post(url, data=body, headers=headers, timeout=15)


def post_alert(url: str, token: str, notification: dict) -> requests.Response:
    """POST a notification as Cloud Monitoring's token-auth webhook channel does."""
    return requests.post(url, json=notification, params={"token": token}, timeout=30)


def random_sha() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex[:8]


# The sample incident starts this long before its opening notification (a condition holds
# for a while before Monitoring alerts): a sample opened and closed at once lasts 1 h 5 min.
SAMPLE_LEAD_SECONDS = 3900
ALERTS_FILE = "alerts.json"


def alert_notification(
    state: str, incident_id: str, policy: str, now: int, started: int | None = None
) -> dict:
    """A Cloud Monitoring notification (schema 1.2) for the launch dead-letter policy: an
    incident that started at ``started`` (default: ``SAMPLE_LEAD_SECONDS`` before ``now``,
    Unix seconds) and, if closed, ended at ``now``. Both notifications of one incident
    must carry the same start, as Monitoring's do."""
    started, ended = (now - SAMPLE_LEAD_SECONDS if started is None else started), now
    return {
        "version": "1.2",
        "incident": {
            "incident_id": incident_id,
            "scoping_project_id": "binderops-local",
            "scoping_project_number": 0,
            "url": f"https://console.cloud.google.com/monitoring/alerting/incidents/{incident_id}?project=binderops-local",
            "severity": "Warning",
            "state": state,
            "started_at": started,
            "ended_at": ended if state == "closed" else None,
            "resource_display_name": "launch-events-push",
            "resource_type_display_name": "Cloud Pub/Sub Subscription",
            "resource": {
                "type": "pubsub_subscription",
                "labels": {"subscription_id": "launch-events-dead-letter-sub"},
            },
            "metric": {
                "type": "pubsub.googleapis.com/subscription/num_undelivered_messages",
                "displayName": "Unacked messages",
            },
            "policy_name": policy,
            "condition_name": "Dead-lettered launch events above 0 for 5 min",
            "threshold_value": "0",
            "observed_value": "17",
            "documentation": {
                "content": "Launch events are failing delivery. Look at `ingest_launch`'s logs, "
                "then at the dead-letter subscription.",
                "mime_type": "text/markdown",
                "subject": f"ALERT - {policy}",
                "links": [
                    {
                        "displayName": "Runbook",
                        "url": "https://github.com/binderops/binderops#incident-notification",
                    }
                ],
            },
            "summary": "Unacked messages for launch-events-dead-letter-sub is above the threshold "
            "of 0 with a value of 17.",
        },
    }


def incident_start(state_dir: Path, incident_id: str, state: str, now: int) -> int:
    """When a sample incident started: an opening starts it (recorded in
    ``STATE_DIR/alerts.json``); its closing carries the same start, so the report's
    duration and the incidents table's agree with what the person sending them did."""
    path = Path(state_dir) / ALERTS_FILE
    try:
        starts = json.loads(path.read_text())
    except (OSError, ValueError):
        starts = {}
    if not isinstance(starts, dict):
        starts = {}
    known = starts.get(incident_id)
    if state == "closed" and isinstance(known, int):
        return known
    started = now - SAMPLE_LEAD_SECONDS
    if state == "open" and not isinstance(known, int):
        starts[incident_id] = started
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(starts, indent=1))
    return known if isinstance(known, int) else started
