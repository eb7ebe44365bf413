"""GitHub's REST API: the few calls deploys and incidents make, over one requests session."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any, Protocol
from urllib.parse import quote

import requests

from .http import (
    PATIENT,
    Rejected,
    RetryPolicy,
    call,
    create_once,
    default_wait,
    retry_after,
)

API_VERSION = "2022-11-28"
USER_AGENT = "binderops"


def rate_limit_wait(response: requests.Response, backoff: float) -> float | None:
    """GitHub signals rate limits with 403 or 429: honour ``Retry-After``, else ``X-RateLimit-Reset``."""
    limited = response.status_code == 429 or (
        response.status_code == 403
        and (
            "Retry-After" in response.headers
            or response.headers.get("X-RateLimit-Remaining") == "0"
        )
    )
    if not limited:
        return default_wait(response, backoff)
    if (after := retry_after(response)) is not None:
        return after
    reset = response.headers.get("X-RateLimit-Reset", "")
    if reset.isdigit():
        return max(1.0, int(reset) - time.time() + 1)
    return max(backoff, 60.0)  # a secondary limit with no hint: GitHub asks for at least a minute


class Commenting(Protocol):
    """What ``comment_once`` needs: an issue's comments, and a way to add one."""

    def comments(self, repo: str, number: int) -> Iterable[dict]: ...
    def comment(self, repo: str, number: int, body: str) -> dict: ...


def comment_once(issues: Commenting, repo: str, number: int, marker: str, body: str) -> None:
    """Comment ``body`` (which carries ``marker``) on ``number`` unless a comment with
    ``marker`` is there already: a redelivery, or a retry after a comment that may have been
    posted without an answer, adds none (``create_once`` looks before posting again)."""

    def posted() -> dict | None:
        return next(
            (c for c in issues.comments(repo, number) if marker in (c.get("body") or "")), None
        )

    if posted() is None:
        create_once(lambda: issues.comment(repo, number, body), posted, f"commenting on #{number}")


class GitHub:
    """One authenticated session; create once per instance."""

    def __init__(self, api_url: str, token: str, policy: RetryPolicy = PATIENT) -> None:
        self.api_url = api_url.rstrip("/")
        self.policy = policy
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": USER_AGENT,
            }
        )

    def _send(self, method: str, url: str, path: str, **kwargs: Any) -> requests.Response:
        return call(
            self.session,
            method,
            url,
            f"GitHub {method} {path}",
            self.policy,
            wait_for=rate_limit_wait,
            **kwargs,
        )

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict | None = None
    ) -> Any:
        response = self._send(method, self.api_url + path, path, json=json, params=params)
        return response.json() if response.content else None

    def pages(self, path: str, params: dict | None = None, max_pages: int = 10) -> Iterator[dict]:
        """Items of a list endpoint, following ``Link: rel="next"`` for up to ``max_pages`` pages."""
        url: str | None = self.api_url + path
        query: dict | None = {"per_page": 100, **(params or {})}
        for _ in range(max_pages):
            if not url:
                return
            response = self._send("GET", url, path, params=query)
            yield from response.json()
            url, query = response.links.get("next", {}).get("url"), None

    # Deployments
    def deployments(self, repo: str, sha: str, environment: str) -> list[dict]:
        return self.request(
            "GET",
            f"/repos/{repo}/deployments",
            params={"sha": sha, "environment": environment, "per_page": 100},
        )

    def latest_deployment(self, repo: str, environment: str) -> dict | None:
        found = self.request(
            "GET", f"/repos/{repo}/deployments", params={"environment": environment, "per_page": 1}
        )
        return found[0] if found else None

    def create_deployment(
        self, repo: str, sha: str, environment: str, description: str, payload: dict
    ) -> dict:
        return self.request(
            "POST",
            f"/repos/{repo}/deployments",
            json={
                "ref": sha,
                "environment": environment,
                "auto_merge": False,
                "required_contexts": [],
                "description": description[:140],
                "payload": payload,
                "production_environment": environment == "production",
                "transient_environment": False,
            },
        )

    def deployment_statuses(self, repo: str, deployment_id: int) -> list[dict]:
        return self.request(
            "GET", f"/repos/{repo}/deployments/{deployment_id}/statuses", params={"per_page": 100}
        )

    def create_deployment_status(
        self, repo: str, deployment_id: int, state: str, description: str, log_url: str = ""
    ) -> dict:
        body = {"state": state, "description": description[:140]}
        if log_url:
            body["log_url"] = log_url
        return self.request(
            "POST", f"/repos/{repo}/deployments/{deployment_id}/statuses", json=body
        )

    # Pull requests and commits
    def pull(self, repo: str, number: int) -> dict:
        return self.request("GET", f"/repos/{repo}/pulls/{number}")

    def permission(self, repo: str, login: str) -> str:
        """``login``'s permission on ``repo`` now: admin, write, read or none (GitHub folds
        maintain into write and triage into read). Someone GitHub does not know has none."""
        path = f"/repos/{repo}/collaborators/{quote(login, safe='')}/permission"
        try:
            found = self.request("GET", path)
        except Rejected as e:
            if e.status == 404:
                return "none"
            raise
        permission = found.get("permission") if isinstance(found, dict) else None
        return permission if isinstance(permission, str) else "none"

    def commit_pulls(self, repo: str, sha: str) -> list[dict]:
        return self.request("GET", f"/repos/{repo}/commits/{sha}/pulls")

    def commit(self, repo: str, sha: str) -> dict:
        return self.request("GET", f"/repos/{repo}/commits/{sha}")

    def on_branch(self, repo: str, branch: str, sha: str) -> bool:
        """Whether ``branch`` holds commit ``sha`` now: comparing the branch with the commit
        finds it ``identical`` (the branch's head) or ``behind`` (an ancestor of the head)."""
        path = f"/repos/{repo}/compare/{quote(branch, safe='')}...{sha}"
        try:
            found = self.request("GET", path)
        except Rejected as e:
            if e.status == 404:  # no such branch or commit
                return False
            raise
        return isinstance(found, dict) and found.get("status") in ("identical", "behind")

    def labeller(self, repo: str, number: int, label: str) -> str:
        """Who last added ``label`` to issue or pull request ``number`` ("" if nobody did), from
        its timeline of events: a pull request's labels say which, not who."""
        who = ""
        for event in self.pages(f"/repos/{repo}/issues/{number}/events"):
            if event.get("event") == "labeled" and (event.get("label") or {}).get("name") == label:
                who = (event.get("actor") or {}).get("login") or ""
        return who if isinstance(who, str) else ""

    # Issues
    def open_issues(self, repo: str, label: str) -> list[dict]:
        return self.request(
            "GET",
            f"/repos/{repo}/issues",
            params={"labels": label, "state": "open", "per_page": 100},
        )

    def issues(self, repo: str, label: str) -> Iterator[dict]:
        """Issues with ``label``, open or closed, newest first."""
        return self.pages(
            f"/repos/{repo}/issues",
            {"labels": label, "state": "all", "sort": "created", "direction": "desc"},
        )

    def create_issue(self, repo: str, title: str, body: str, labels: list[str]) -> dict:
        return self.request(
            "POST", f"/repos/{repo}/issues", json={"title": title, "body": body, "labels": labels}
        )

    def update_issue(self, repo: str, number: int, **fields: Any) -> dict:
        return self.request("PATCH", f"/repos/{repo}/issues/{number}", json=fields)

    def comments(self, repo: str, number: int) -> Iterator[dict]:
        return self.pages(f"/repos/{repo}/issues/{number}/comments")

    def comment(self, repo: str, number: int, body: str) -> dict:
        return self.request("POST", f"/repos/{repo}/issues/{number}/comments", json={"body": body})
