"""Webhook latency: signed GitHub deliveries to ``github_webhook`` served by functions-framework,
timed from request to response, with GitHub, Cloud Build and Google's token endpoint answered
by a local server. Beside it, in the same run: an empty HTTP function (the floor the
framework and HTTP set) and the cheaper outcomes (forged signature, ignored push, redelivery).

    python bench/webhook.py [--requests 10000]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _common import table
from fakes.cloudbuild import ACCESS_TOKEN, TRIGGER, service_account_file
from fakes.github import TOKEN
from fakes.http import RecordingServer, Request, Response

from binderops.local import send
from binderops.local import services as local

SECRET = "bench-secret"
REPO = "jupyterhub/mybinder.org-deploy"
EMPTY = """import functions_framework


@functions_framework.http
def github_webhook(request):
    return "ok"
"""


class Downstream:
    """Answers GitHub and Cloud Build at once (no state beyond the builds started, by sha)."""

    def __init__(self) -> None:
        self.started: dict[str, dict] = {}
        self.calls = 0

    def __call__(self, request: Request) -> Response:
        self.calls += 1
        path = request.path
        if path == "/token":
            return Response(
                200, {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}
            )
        if path.endswith("/builds"):
            tags = re.findall(r'tags="sha-([0-9a-f]{40})"', request.query["filter"][0])
            found = [self.started[tags[0]]] if tags and tags[0] in self.started else []
            return Response(200, {"builds": found} if found else {})
        if path.endswith(":run"):
            source = request.json()["source"]
            build = {
                "id": str(uuid.uuid4()),
                "status": "QUEUED",
                "createTime": "2026-11-28T10:00:00Z",
                "logUrl": "https://console",
                "substitutions": {"COMMIT_SHA": source["commitSha"], **source["substitutions"]},
            }
            self.started[source["commitSha"]] = build
            return Response(200, {"name": "operations/build/x", "metadata": {"build": build}})
        if path.endswith("/deployments") and request.method == "GET":
            return Response(200, [])
        if path.endswith("/deployments"):
            return Response(201, {"id": 1})
        if path.endswith("/statuses"):
            return Response(201, {"id": 1})
        return Response(404, {"message": f"unexpected {request.method} {path}"})


def signed(event: str, payload: dict, secret: str = SECRET) -> tuple[bytes, dict]:
    return send.signed_webhook(secret, event, payload)


def measure(
    url: str, requests_: list[tuple[bytes, dict]], expect: int, action: str = ""
) -> list[float]:
    """Time each request; stop if one is not answered with ``expect`` (and ``action``, if given)."""
    session = requests.Session()
    timings = []
    for body, headers in requests_:
        start = time.perf_counter()
        response = session.post(url, data=body, headers=headers, timeout=30)
        timings.append(time.perf_counter() - start)
        if response.status_code != expect or (action and response.json().get("action") != action):
            raise SystemExit(
                f"expected {expect} {action}, got {response.status_code}: {response.text}"
            )
    return timings


def group_memory(leader: int) -> tuple[float, float]:
    """(resident now, peak resident) in MiB of the largest process in ``leader``'s process
    group: the functions-framework worker (Linux /proc)."""
    now, peak = 0.0, 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != leader:  # the process group
                continue
            status = dict(
                line.split(":", 1) for line in stat.with_name("status").read_text().splitlines()
            )
        except (OSError, IndexError, ValueError):
            continue
        now = max(now, int(status["VmRSS"].split()[0]) / 1024)
        peak = max(peak, int(status["VmHWM"].split()[0]) / 1024)
    return now, peak


def flood(url: str, leader: int, posts: int = 8, size: int = 24 * 1024 * 1024) -> tuple[str, ...]:
    """``posts`` unsigned deliveries of ``size`` bytes at once: what the worker held."""
    from concurrent.futures import ThreadPoolExecutor

    body = b"[" * size
    headers = {"X-GitHub-Event": "push", "Content-Type": "application/json"}
    before, _ = group_memory(leader)

    def post(_: int) -> str:
        try:
            return str(requests.post(url, data=body, headers=headers, timeout=60).status_code)
        except requests.ConnectionError:
            return "closed"  # answered before the body was sent, and hung up

    with ThreadPoolExecutor(posts) as pool:
        answers = sorted(set(pool.map(post, range(posts))))
    _, peak = group_memory(leader)
    return (f"{before:.0f}", f"{peak:.0f}", "/".join(answers))


def row(name: str, timings: list[float], calls: str) -> tuple[str, ...]:
    ms = sorted(t * 1000 for t in timings)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (
        name,
        f"{len(ms):,}",
        calls,
        f"{statistics.median(ms):.2f}",
        f"{p99:.2f}",
        f"{ms[-1]:.1f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=10_000,
        help="deploy-starting deliveries to time (default 10000)",
    )
    args = parser.parse_args()
    n, side = args.requests, max(200, args.requests // 5)
    downstream = Downstream()
    with tempfile.TemporaryDirectory() as tmp, RecordingServer(downstream) as server:
        tmp = Path(tmp)
        server.requests = _Discard()  # 50,000 requests: keep none
        env = {
            "BINDEROPS_GITHUB_WEBHOOK_SECRET": SECRET,
            "BINDEROPS_GITHUB_TOKEN": TOKEN,
            "BINDEROPS_GITHUB_API_URL": server.url,
            "BINDEROPS_DEPLOY_REPOS": REPO,
            "BINDEROPS_DEPLOY_BACKEND": "cloudbuild",
            "BINDEROPS_CLOUDBUILD_TRIGGER": TRIGGER,
            "BINDEROPS_CLOUDBUILD_API_URL": server.url,
            "BINDEROPS_STATE_DIR": str(tmp),
            "GOOGLE_APPLICATION_CREDENTIALS": str(service_account_file(tmp, f"{server.url}/token")),
        }
        (tmp / "empty").mkdir()
        (tmp / "empty" / "main.py").write_text(EMPTY)
        empty = local.start_function(
            "github_webhook", {}, tmp / "logs-empty", source=tmp / "empty" / "main.py"
        )
        webhook = local.start_function("github_webhook", env, tmp / "logs")
        try:
            warm = [signed("push", send.push_event(REPO, send.random_sha())) for _ in range(50)]
            measure(webhook.url, warm, 200)  # first requests create the clients and fetch a token
            measure(empty.url, warm, 200)
            shas = [send.random_sha() for _ in range(n)]
            before = downstream.calls
            cases = [
                (
                    "empty HTTP function (baseline)",
                    empty.url,
                    [signed("push", {"zen": "x"}) for _ in range(side)],
                    200,
                    "0",
                ),
                (
                    "forged signature → 401",
                    webhook.url,
                    [signed("push", send.push_event(REPO, s), "wrong") for s in shas[:side]],
                    401,
                    "0",
                ),
                (
                    "docs-only push → 202",
                    webhook.url,
                    [
                        signed("push", send.push_event(REPO, s, files=("docs/a.md",)))
                        for s in shas[:side]
                    ],
                    202,
                    "0",
                ),
            ]
            results = [
                row(name, measure(url, reqs, status), calls)
                for name, url, reqs, status, calls in cases
            ]
            before = downstream.calls
            timings = measure(
                webhook.url,
                [signed("push", send.push_event(REPO, s)) for s in shas],
                200,
                "started",
            )
            per = (downstream.calls - before) / n
            results.append(row("push → staging deploy started", timings, f"{per:.0f}"))
            before = downstream.calls
            timings = measure(
                webhook.url,
                [signed("push", send.push_event(REPO, s)) for s in shas[:side]],
                200,
                "exists",
            )
            results.append(
                row(
                    "redelivered push → exists",
                    timings,
                    f"{(downstream.calls - before) / side:.0f}",
                )
            )
            floods = [
                ("empty HTTP function (baseline)", *flood(empty.url, empty.process.pid)),
                ("github_webhook", *flood(webhook.url, webhook.process.pid)),
            ]
        finally:
            webhook.stop()
            empty.stop()
    print(table([("case", "requests", "calls out", "p50 ms", "p99 ms", "max ms"), *results]))
    print("\ntarget: p99 ≤ 20 ms for a deploy-starting delivery (sequential requests, one client)")
    print("\n8 unsigned 24 MiB deliveries at once, the worker's memory:\n")
    print(table([("function", "RSS before MiB", "peak MiB", "answers"), *floods]))


class _Discard(list):
    def append(self, item) -> None:
        pass


if __name__ == "__main__":
    main()
