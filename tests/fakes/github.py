"""Enough of GitHub's REST API, on loopback, for the real ``requests``-based client.

Every request is checked exactly (method, path, the four headers GitHub asks for, the
JSON body's fields and types); a request that does not match gets a 4xx the test will
see, and is kept in ``problems``. State (deployments, statuses, issues, comments) lives
in plain lists so tests can assert on what GitHub would show.
"""

from __future__ import annotations

import re
import time
import typing

from .http import Request, Response

TOKEN = "ghp_test-token-0123456789"
REPO = r"/repos/(?P<repo>[\w.-]+/[\w.-]+)"
DEPLOYMENT_STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}


class FakeGitHub:
    def __init__(self, token: str = TOKEN, page_size: int = 100) -> None:
        self.token = token
        self.page_size = page_size
        self.url = ""  # set by the test once the server runs (for Link headers)
        self.deployments: list[dict] = []
        self.statuses: dict[int, list[dict]] = {}
        self.issues: list[dict] = []
        self.comments: dict[int, list[dict]] = {}
        self.pulls: dict[tuple[str, int], dict] = {}
        self.commit_messages: dict[str, str] = {}
        self.commit_dates: dict[str, str] = {}  # committer dates; default long ago
        # branch → the shas it holds (its head last); compare answers from this.
        self.branches: dict[str, list[str]] = {}
        # (repo, number) → the issue's timeline events ("labeled" with its actor and label).
        self.events: dict[tuple[str, int], list[dict]] = {}
        # login → permission on every repository ("admin", "write", "read"); others: 404.
        self.permissions: dict[str, str] = {"maintainer": "write", "owner": "admin"}
        self.problems: list[str] = []
        # Responses to give instead of the normal answer, first come first served: fault injection.
        self.faults: list[Response] = []
        # Seconds to wait before answering the next requests that create (having created).
        self.slow_creates: list[float] = []
        # Statuses to answer the next requests that create with, having created: a 5xx after
        # the work was done, as a proxy or an overloaded front end may give.
        self.errors_after_create: list[int] = []
        self.served: list[tuple[str, str]] = []
        self.missing_repos: set[str] = (
            set()
        )  # answered 404, as GitHub answers a repository it cannot see

    def _problem(self, text: str, status: int = 422) -> Response:
        self.problems.append(text)
        return Response(status, {"message": text})

    def __call__(self, request: Request) -> Response:
        h = request.headers
        if h.get("authorization") != f"Bearer {self.token}":
            return self._problem(f"bad Authorization on {request.method} {request.path}", 401)
        for name, value in (
            ("accept", "application/vnd.github+json"),
            ("x-github-api-version", "2022-11-28"),
        ):
            if h.get(name) != value:
                return self._problem(
                    f"{name}: {h.get(name)!r} on {request.method} {request.path}", 400
                )
        if not h.get("user-agent"):
            return self._problem("no User-Agent", 403)
        if self.faults:
            return self.faults.pop(0)
        self.served.append((request.method, request.path))
        if any(request.path.startswith(f"/repos/{repo}/") for repo in self.missing_repos):
            return Response(404, {"message": "Not Found"})
        for pattern, method, handler in self.routes:
            if request.method == method and (m := re.fullmatch(REPO + pattern, request.path)):
                answer = handler(self, request, **m.groupdict())
                if method == "POST" and self.slow_creates:
                    time.sleep(self.slow_creates.pop(0))  # done, but answered too late
                if method == "POST" and self.errors_after_create:
                    status = self.errors_after_create.pop(0)  # done, but answered with an error
                    return Response(status, {"message": "Server Error"})
                return answer
        return self._problem(f"no route {request.method} {request.path}", 404)

    # helpers
    def _page(self, request: Request, items: list[dict]) -> Response:
        per_page = min(int(request.query.get("per_page", ["30"])[0]), self.page_size)
        page = int(request.query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            query = "&".join(f"{k}={v[0]}" for k, v in request.query.items() if k != "page")
            headers["Link"] = f'<{self.url}{request.path}?{query}&page={page + 1}>; rel="next"'
        return Response(200, chunk, headers)

    def _body(
        self, request: Request, required: dict[str, type], optional: dict[str, type] | None = None
    ) -> dict | Response:
        optional = optional or {}
        try:
            body = request.json()
        except ValueError:
            return self._problem(f"{request.path}: body is not JSON", 400)
        for key, kind in required.items():
            if not isinstance(body.get(key), kind):
                return self._problem(f"{request.path}: {key} must be {kind}")
        for key in body:
            if key not in required and key not in optional:
                return self._problem(f"{request.path}: unexpected field {key}")
            if key in optional and not isinstance(body[key], optional[key]):
                return self._problem(f"{request.path}: {key} must be {optional[key]}")
        return body

    # deployments
    def list_deployments(self, request: Request, repo: str) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        found = [
            d
            for d in reversed(self.deployments)
            if d["repo"] == repo
            and q.get("sha", d["sha"]) == d["sha"]
            and q.get("environment", d["environment"]) == d["environment"]
        ]
        return self._page(request, found)

    def create_deployment(self, request: Request, repo: str) -> Response:
        body = self._body(
            request,
            {"ref": str, "environment": str},
            {
                "auto_merge": bool,
                "required_contexts": list,
                "description": str,
                "payload": dict,
                "production_environment": bool,
                "transient_environment": bool,
            },
        )
        if isinstance(body, Response):
            return body
        if (
            not re.fullmatch(r"[0-9a-f]{40}", body["ref"])
            or body.get("auto_merge") is not False
            or body.get("required_contexts") != []
        ):
            return self._problem(
                "deployments must name a full sha with auto_merge false and no required contexts"
            )
        deployment = {
            "id": len(self.deployments) + 1,
            "repo": repo,
            "sha": body["ref"],
            "ref": body["ref"],
            "environment": body["environment"],
            "description": body.get("description"),
            "payload": body.get("payload", {}),
        }
        self.deployments.append(deployment)
        self.statuses[deployment["id"]] = []
        return Response(201, deployment)

    def list_statuses(self, request: Request, repo: str, id: str) -> Response:
        return self._page(request, list(reversed(self.statuses.get(int(id), []))))

    def create_status(self, request: Request, repo: str, id: str) -> Response:
        body = self._body(
            request, {"state": str}, {"log_url": str, "description": str, "environment_url": str}
        )
        if isinstance(body, Response):
            return body
        if body["state"] not in DEPLOYMENT_STATES or int(id) not in self.statuses:
            return self._problem(f"bad status {body['state']!r} for deployment {id}")
        if len(body.get("description", "")) > 140:
            return self._problem("description longer than 140 characters")
        self.statuses[int(id)].append(body)
        return Response(201, {"id": len(self.statuses[int(id)]), **body})

    def states(self, environment: str, sha: str | None = None) -> list[list[str]]:
        """The status states of each deployment to ``environment``, oldest first."""
        return [
            [s["state"] for s in self.statuses[d["id"]]]
            for d in self.deployments
            if d["environment"] == environment and (sha is None or d["sha"] == sha)
        ]

    # pulls and commits
    def get_pull(self, request: Request, repo: str, number: str) -> Response:
        pull = self.pulls.get((repo, int(number)))
        return Response(200, pull) if pull else self._problem("no such pull request", 404)

    def commit_pulls(self, request: Request, repo: str, sha: str) -> Response:
        return Response(
            200,
            [
                p
                for (r, _), p in self.pulls.items()
                if r == repo and sha in (p.get("merge_commit_sha"), p["head"]["sha"])
            ],
        )

    def get_commit(self, request: Request, repo: str, sha: str) -> Response:
        commit = {
            "message": self.commit_messages.get(sha, "A commit"),
            "committer": {
                "name": "A Contributor",
                "date": self.commit_dates.get(sha, "2020-01-01T00:00:00Z"),
            },
        }
        return Response(200, {"sha": sha, "commit": commit})

    def compare(self, request: Request, repo: str, base: str, head: str) -> Response:
        """As GitHub compares a branch with a commit: the branch's head, an ancestor, or not."""
        held = self.branches.get(base)
        if held is None:
            return Response(404, {"message": "Not Found"})
        if held and held[-1] == head:
            status, behind = "identical", 0
        elif head in held:
            status, behind = "behind", len(held) - 1 - held.index(head)
        else:
            status, behind = "diverged", 1
        ahead = 0 if head in held else 1
        return Response(200, {"status": status, "ahead_by": ahead, "behind_by": behind})

    def list_events(self, request: Request, repo: str, number: str) -> Response:
        return self._page(request, self.events.get((repo, int(number)), []))

    def label(self, repo: str, number: int, label: str, actor: str) -> None:
        """``actor`` adds ``label`` to ``number``: its timeline records who."""
        event = {"event": "labeled", "label": {"name": label}, "actor": {"login": actor}}
        self.events.setdefault((repo, number), []).append(event)

    def get_permission(self, request: Request, repo: str, login: str) -> Response:
        if login not in self.permissions:  # as GitHub answers for someone it does not know
            return Response(404, {"message": "Not Found"})
        permission = self.permissions[login]
        return Response(
            200, {"permission": permission, "role_name": permission, "user": {"login": login}}
        )

    # issues
    def add_issue(
        self, repo: str, title: str, labels: list[str], created_at: str = "2026-11-28T09:00:00Z"
    ) -> dict:
        """An existing issue, as a test's starting state."""
        number = len(self.issues) + 1
        issue = {
            "number": number,
            "repo": repo,
            "title": title,
            "body": "",
            "state": "open",
            "labels": [{"name": n} for n in labels],
            "html_url": f"https://github.com/{repo}/issues/{number}",
            "created_at": created_at,
        }
        self.issues.append(issue)
        self.comments[number] = []
        return issue

    def list_issues(self, request: Request, repo: str) -> Response:
        q = {k: v[0] for k, v in request.query.items()}
        wanted = set(filter(None, q.get("labels", "").split(",")))
        state = q.get("state", "open")
        found = [
            i
            for i in reversed(self.issues)
            if i["repo"] == repo
            and wanted <= {lb["name"] for lb in i["labels"]}
            and (state == "all" or i["state"] == state)
        ]
        return self._page(request, found)

    def create_issue(self, request: Request, repo: str) -> Response:
        body = self._body(request, {"title": str, "body": str}, {"labels": list})
        if isinstance(body, Response):
            return body
        if len(body["body"]) > 65536:
            return self._problem("body is too long (maximum is 65536 characters)")
        issue = self.add_issue(repo, body["title"], body.get("labels", []), "2026-11-28T10:00:00Z")
        issue["body"] = body["body"]
        return Response(201, issue)

    def _issue(self, repo: str, number: str) -> dict | None:
        return next(
            (i for i in self.issues if i["repo"] == repo and i["number"] == int(number)), None
        )

    def update_issue(self, request: Request, repo: str, number: str) -> Response:
        body = self._body(request, {}, {"body": str, "labels": list, "state": str, "title": str})
        issue = self._issue(repo, number)
        if isinstance(body, Response) or issue is None:
            return body if isinstance(body, Response) else self._problem("no such issue", 404)
        if "labels" in body:
            body["labels"] = [{"name": n} for n in body["labels"]]
        issue.update(body)
        return Response(200, issue)

    def list_comments(self, request: Request, repo: str, number: str) -> Response:
        return self._page(request, self.comments.get(int(number), []))

    def create_comment(self, request: Request, repo: str, number: str) -> Response:
        body = self._body(request, {"body": str})
        if isinstance(body, Response):
            return body
        comment = {"id": sum(map(len, self.comments.values())) + 1, "body": body["body"]}
        self.comments.setdefault(int(number), []).append(comment)
        return Response(201, comment)

    # The API surface this fake answers: path pattern, method, handler.
    routes: typing.ClassVar[list] = [
        ("/deployments", "GET", list_deployments),
        ("/deployments", "POST", create_deployment),
        (r"/deployments/(?P<id>\d+)/statuses", "GET", list_statuses),
        (r"/deployments/(?P<id>\d+)/statuses", "POST", create_status),
        (r"/pulls/(?P<number>\d+)", "GET", get_pull),
        (r"/commits/(?P<sha>[0-9a-f]{40})/pulls", "GET", commit_pulls),
        (r"/commits/(?P<sha>[0-9a-f]{40})", "GET", get_commit),
        (r"/collaborators/(?P<login>[^/]+)/permission", "GET", get_permission),
        (r"/compare/(?P<base>[\w.-]+)\.\.\.(?P<head>[0-9a-f]{40})", "GET", compare),
        (r"/issues/(?P<number>\d+)/events", "GET", list_events),
        ("/issues", "GET", list_issues),
        ("/issues", "POST", create_issue),
        (r"/issues/(?P<number>\d+)", "PATCH", update_issue),
        (r"/issues/(?P<number>\d+)/comments", "GET", list_comments),
        (r"/issues/(?P<number>\d+)/comments", "POST", create_comment),
    ]
