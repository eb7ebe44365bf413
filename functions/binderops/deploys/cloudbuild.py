"""Cloud Build over REST: run the deploy trigger and find its builds by tag.

Authenticated with Application Default Credentials through google-auth's
``AuthorizedSession`` (a service account on Cloud Functions; a key file or
``gcloud auth application-default login`` elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..clients.http import PATIENT, Rejected, RetryPolicy, call
from .builds import Build, DeployRequest

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


class CloudBuild:
    def __init__(
        self,
        trigger: str,
        api_url: str = "https://cloudbuild.googleapis.com",
        policy: RetryPolicy = PATIENT,
    ) -> None:
        # projects/P/locations/L/triggers/T
        _, self.project, _, self.location, _, self.trigger_id = trigger.split("/")
        self.trigger = trigger
        self.api_url = api_url.rstrip("/")
        self.policy = policy
        self._session = None

    @property
    def session(self):
        if self._session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            credentials, _ = google.auth.default(scopes=SCOPES)
            # The token fetch is bounded like every other call (google-auth's default is 120 s).
            self._session = AuthorizedSession(credentials, refresh_timeout=sum(self.policy.timeout))
        return self._session

    def find(self, tags: Sequence[str], status: str = "", limit: int = 10) -> list[Build]:
        terms = [f'tags="{t}"' for t in tags] + ([f'status="{status}"'] if status else [])
        response = call(
            self.session,
            "GET",
            f"{self.api_url}/v1/projects/{self.project}/locations/{self.location}/builds",
            "Cloud Build builds.list",
            self.policy,
            params={"filter": " AND ".join(terms), "pageSize": limit},
        )
        builds = [Build.from_resource(b) for b in response.json().get("builds", [])]
        return sorted(builds, key=lambda b: b.created.timestamp() if b.created else 0, reverse=True)

    def get(self, build_id: str) -> Build | None:
        try:
            response = call(
                self.session,
                "GET",
                f"{self.api_url}/v1/projects/{self.project}/locations/{self.location}/builds/{build_id}",
                "Cloud Build builds.get",
                self.policy,
            )
        except Rejected as e:
            if e.status == 404:
                return None
            raise
        return Build.from_resource(response.json())

    def start(self, request: DeployRequest) -> Build:
        body = {
            "projectId": self.project,
            "triggerId": self.trigger_id,
            "source": {"commitSha": request.sha, "substitutions": request.substitutions},
        }
        response = call(
            self.session,
            "POST",
            f"{self.api_url}/v1/{self.trigger}:run",
            "Cloud Build triggers.run",
            self.policy,
            json=body,
        )
        # A long-running Operation whose metadata carries the Build it queued.
        build = (response.json().get("metadata") or {}).get("build") or {}
        return Build.from_resource(build)
