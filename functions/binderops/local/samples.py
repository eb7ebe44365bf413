"""A deterministic, realistic day of launch messages for the local stack and tests.

Mostly v6 events from a few BinderHubs of a federation, some older versions, a few
Cloud Logging LogEntries (what a log sink delivers) and a few malformed messages.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from ..warehouse import schemas

# The providers the launch schema knows, most launches on GitHub as on mybinder.org.
PROVIDERS = schemas.launch_event_schemas()[6]["properties"]["provider"]["enum"]
PROVIDER_WEIGHTS = {"GitHub": 80, "Gist": 4, "GitLab": 4, "Git": 4, "Zenodo": 3, "Figshare": 2}
PROVIDER_WEIGHTS |= {"Hydroshare": 1, "Dataverse": 1, "CKAN": 1}
ORIGINS = ["gke.mybinder.org", "gesis.mybinder.org", "ovh.mybinder.org", "2i2c.mybinder.org"]
GITHUB_REPOS = [
    "binder-examples/requirements",
    "binder-examples/conda",
    "ipython/ipython-in-depth",
    "jupyterlab/jupyterlab-demo",
    "QuantEcon/lecture-python.myst",
    "norvig/pytudes",
    "spacetelescope/jwst-notebooks",
    "data-8/textbook",
]
RECORDS = {
    "Zenodo": "10.5281/zenodo.3242074",
    "Figshare": "10.6084/m9.figshare.9782777.v3",
    "Hydroshare": "b8f6eae9d89241cf8b5904033460af61",
    "Dataverse": "10.7910/DVN/TJCLKP",
    "CKAN": "https://demo.ckan.org/dataset/sample-dataset-1",
}
MALFORMED = [
    b"{not json",
    b'{"timestamp": "2026-03-01T00:00:00Z", "version": 99, "provider": "GitHub"}',
    b'{"timestamp": "2026-03-01T00:00:00Z", "version": 6, "provider": "SVN", "spec": "a/b/c"}',
    b'{"timestamp": "2026-03-01T00:00:00Z", "version": 5, "build_token": "yes"}',
    b'["an", "array"]',
]


@dataclass(frozen=True)
class SampleMessage:
    data: bytes
    attributes: dict[str, str]
    valid: bool


def _spec(rng: random.Random, provider: str) -> str:
    if provider == "GitHub":
        ref = rng.choice(["HEAD", "main", "master", "v1.0", "feature/binder"])
        return f"{rng.choice(GITHUB_REPOS)}/{ref}"
    if provider == "Gist":
        return f"{rng.choice(['minrk', 'choldgraf', 'betatim'])}/{rng.randrange(16**12):012x}"
    if provider == "GitLab":
        return f"{quote('gitlab.com/' + rng.choice(['mosaik/examples', 'gesis/notebooks']), safe='')}/main"
    if provider == "Git":
        url = f"https://codeberg.org/{rng.choice(['ada/notes', 'sam/talks'])}.git"
        return f"{quote(url, safe='')}/HEAD"
    return RECORDS[provider]


def launch_event(rng: random.Random, when: datetime, version: int = 6) -> dict:
    """One plausible launch event of the given schema version."""
    provider = rng.choices(
        PROVIDERS,
        weights=[PROVIDER_WEIGHTS[p] for p in PROVIDERS],
    )[0]
    event = {
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "schema": "binderhub.jupyter.org/launch",
        "version": version,
        "provider": provider,
        "spec": _spec(rng, provider),
        "status": "success" if rng.random() < 0.97 else "failure",
    }
    if version >= 3:
        event["origin"] = rng.choice(ORIGINS)
    if version >= 4:
        event["ref"] = f"{rng.getrandbits(160):040x}"
    if version >= 5:
        event["build_token"] = rng.random() < 0.05
    if version >= 6:
        event["request_origin"] = rng.choice(
            ["same-origin", "cross-site", "https://jupyterbook.org", ""]
        )
    return event


def _log_entry(event: dict, rng: random.Random) -> dict:
    """Wrap an event as a Cloud Logging sink would, request metadata included."""
    entry = {
        "logName": "projects/binder-prod/logs/binderhub",
        "resource": {"type": "k8s_container", "labels": {"namespace_name": "prod"}},
        "timestamp": event["timestamp"],
        "httpRequest": {"remoteIp": f"203.0.113.{rng.randrange(1, 255)}"},
        "insertId": uuid.UUID(int=rng.getrandbits(128)).hex,
    }
    if rng.random() < 0.5:
        entry["jsonPayload"] = {"message": event} if rng.random() < 0.5 else event
    else:
        entry["textPayload"] = json.dumps(event)
    return entry


def sample_day(
    day: date = date(2026, 3, 1), launches: int = 2000, seed: int = 42
) -> list[SampleMessage]:
    """``launches`` valid launch messages spread over ``day`` (UTC), plus a few malformed."""
    rng = random.Random(seed)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    messages = []
    for _ in range(launches):
        when = start + timedelta(seconds=rng.randrange(86400), microseconds=rng.randrange(10**6))
        version = rng.choices([6, 5, 4, 3, 2, 1], weights=[85, 5, 4, 3, 2, 1])[0]
        document = launch_event(rng, when, version)
        if rng.random() < 0.05:
            document = _log_entry(document, rng)
        messages.append(
            SampleMessage(json.dumps(document).encode(), {"event_id": _event_id(rng)}, True)
        )
    for data in MALFORMED:
        messages.append(SampleMessage(data, {"event_id": _event_id(rng)}, False))
    rng.shuffle(messages)
    return messages


def _event_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def sample_weeks(
    last: date, days: int = 35, per_day: int = 300, silent: str = "", seed: int = 7
) -> list[dict]:
    """``days`` days of launch events ending with ``last`` across the federation members,
    with ``silent`` recording none on ``last``: what the stack loads so the dashboard has a
    month to draw and the freshness check has a week to compare with."""
    rng = random.Random(seed)
    events = []
    for back in range(days):
        day = last - timedelta(days=back)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        weekday_factor = 0.7 if day.weekday() >= 5 else 1.0
        for _ in range(int(per_day * weekday_factor)):
            when = start + timedelta(seconds=rng.randrange(86400))
            event = launch_event(rng, when, 6)
            if day == last and event["origin"] == silent:
                continue
            events.append(event)
    return events
