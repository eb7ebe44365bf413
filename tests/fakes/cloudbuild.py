"""Cloud Build's REST API and Google's OAuth token endpoint, on loopback.

The real google-auth service-account credentials sign a JWT and exchange it here for an
access token; Cloud Build requests must then carry exactly that token. ``triggers.run``
queues a build tagged as the deploy trigger's build config tags it, and ``builds.list``
answers the tag/status filters binderops sends.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .http import Request, Response

ACCESS_TOKEN = "ya29.test-access-token"
PROJECT, LOCATION, TRIGGER_ID = "binder-prod", "us-central1", "deploy-trigger"
TRIGGER = f"projects/{PROJECT}/locations/{LOCATION}/triggers/{TRIGGER_ID}"
# The trigger trials of pull requests from forks run on: another build account, no secrets.
TRIAL_TRIGGER_ID = "trial-trigger"
TRIAL_TRIGGER = f"projects/{PROJECT}/locations/{LOCATION}/triggers/{TRIAL_TRIGGER_ID}"
TRIGGER_IDS = {TRIGGER: TRIGGER_ID, TRIAL_TRIGGER: TRIAL_TRIGGER_ID}
DECLARED = {"_ENVIRONMENT", "_DELIVERY", "_REPO", "_KIND"}


def service_account_file(directory: Path, token_uri: str) -> Path:
    """A service-account key file whose token endpoint is the fake: what ADC reads."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "k1",
        "private_key": pem.decode(),
        "client_email": f"deployer@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = directory / "adc.json"
    path.write_text(json.dumps(info))
    return path


class FakeCloudBuild:
    def __init__(self) -> None:
        self.builds: list[dict] = []
        self.runs: list[dict] = []
        self.tokens_issued = 0
        self.problems: list[str] = []
        self.faults: list[Response] = []
        # Statuses the next triggers.run answer with after queueing the build (done, then a 5xx).
        self.errors_after_run: list[int] = []

    def _problem(self, text: str, status: int = 400) -> Response:
        self.problems.append(text)
        return Response(status, {"error": {"code": status, "message": text}})

    def __call__(self, request: Request) -> Response:
        if request.path == "/token":
            form = parse_qs(request.body.decode())
            if form.get("grant_type") != [
                "urn:ietf:params:oauth:grant-type:jwt-bearer"
            ] or not form.get("assertion"):
                return self._problem("token request is not a JWT bearer grant")
            self.tokens_issued += 1
            return Response(
                200, {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}
            )
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return self._problem(f"bad Authorization on {request.path}", 401)
        if self.faults:
            return self.faults.pop(0)
        for trigger, trigger_id in TRIGGER_IDS.items():
            if request.method == "POST" and request.path == f"/v1/{trigger}:run":
                answer = self._run(request.json(), trigger_id)
                if self.errors_after_run and answer.status == 200:
                    status = self.errors_after_run.pop(0)
                    return Response(status, {"error": {"code": status, "message": "unavailable"}})
                return answer
        if (
            request.method == "GET"
            and request.path == f"/v1/projects/{PROJECT}/locations/{LOCATION}/builds"
        ):
            return self._list(
                request.query.get("filter", [""])[0], int(request.query.get("pageSize", ["50"])[0])
            )
        prefix = f"/v1/projects/{PROJECT}/locations/{LOCATION}/builds/"
        if request.method == "GET" and request.path.startswith(prefix):
            found = [b for b in self.builds if b["id"] == request.path.removeprefix(prefix)]
            return (
                Response(200, found[0])
                if found
                else Response(404, {"error": {"code": 404, "message": "not found"}})
            )
        return self._problem(f"no route {request.method} {request.path}", 404)

    def _run(self, body: dict, trigger_id: str = TRIGGER_ID) -> Response:
        self.runs.append(body)
        source = body.get("source", {})
        subs = source.get("substitutions", {})
        if body.get("projectId") != PROJECT or body.get("triggerId") != trigger_id:
            return self._problem("projectId and triggerId must name the trigger")
        if not re.fullmatch(r"[0-9a-f]{40}", source.get("commitSha", "")) or set(subs) != DECLARED:
            return self._problem(
                f"source must carry commitSha and exactly the substitutions {sorted(DECLARED)}"
            )
        build = {
            "id": str(uuid.uuid4()),
            "projectId": PROJECT,
            "status": "QUEUED",
            "buildTriggerId": trigger_id,
            "substitutions": {"COMMIT_SHA": source["commitSha"], "BRANCH_NAME": "", **subs},
            "tags": [
                f"sha-{source['commitSha']}",
                f"env-{subs['_ENVIRONMENT']}",
                f"delivery-{subs['_DELIVERY']}",
            ],
            "createTime": f"2026-11-28T10:{len(self.builds):02d}:00.000Z",
            "logUrl": "https://console.cloud.google.com/cloud-build/builds/x?project=123",
        }
        build["logUrl"] = build["logUrl"].replace("/x?", f"/{build['id']}?")
        self.builds.append(build)
        return Response(
            200,
            {
                "name": f"operations/build/{PROJECT}/op-{build['id']}",
                "metadata": {
                    "@type": "type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata",
                    "build": build,
                },
            },
        )

    def _list(self, expression: str, page_size: int) -> Response:
        terms = re.findall(r'(tags|status)="([^"]*)"', expression)
        if not terms or " AND ".join(f'{k}="{v}"' for k, v in terms) != expression:
            return self._problem(f"unsupported filter {expression!r}")
        found = [
            b
            for b in reversed(self.builds)
            if all((v in b["tags"]) if k == "tags" else b["status"] == v for k, v in terms)
        ]
        return Response(200, {"builds": found[:page_size]} if found else {})

    def finish(self, build: dict, status: str) -> dict:
        """Move a build on, as Cloud Build would; returns the resource it publishes."""
        build["status"] = status
        if status == "WORKING":
            build["startTime"] = "2026-11-28T10:30:05.000Z"
        elif status not in ("QUEUED", "PENDING"):
            build["finishTime"] = "2026-11-28T10:37:41.000Z"
        return dict(build)
