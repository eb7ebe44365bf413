"""Cold start: a fresh ``functions-framework`` process to its first successful response,
beside an empty function of the same signature measured the same way. ingest_launch runs
twice: on DuckDB (local mode) and on BigQuery (production's path: the google-cloud-bigquery
client is imported and created on the first request), answered by the loopback fake of the
tests. github_webhook answers a signed push on a cold instance: imports, the service
account's token fetched through google-auth, and five GitHub and Cloud Build calls answered
by the webhook benchmark's local server — the case GitHub's 10-second limit is about.

    python bench/cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _common import median, table
from fakes.bigquery import FakeBigQuery
from fakes.cloudbuild import TRIGGER, service_account_file
from fakes.github import TOKEN
from fakes.http import RecordingServer
from webhook import REPO, SECRET, Downstream, signed

from binderops.local import send
from binderops.local.services import free_port

ROOT = Path(__file__).resolve().parent.parent
EMPTY = """import functions_framework


@functions_framework.cloud_event
def ingest_launch(cloud_event):
    return None
"""
EMPTY_HTTP = """import functions_framework


@functions_framework.http
def github_webhook(request):
    return "ok"
"""
EVENT = {
    "timestamp": "2026-03-01T12:00:00Z",
    "version": 6,
    "provider": "GitHub",
    "spec": "a/b/HEAD",
    "status": "success",
}


def pubsub_push() -> tuple[bytes, dict]:
    body = {
        "message": {
            "data": base64.b64encode(json.dumps(EVENT).encode()).decode(),
            "messageId": "1",
            "attributes": {},
        },
        "subscription": "s",
    }
    return json.dumps(body).encode(), {"Content-Type": "application/json"}


def first_response(
    source: Path,
    env: dict,
    target: str = "ingest_launch",
    request: tuple[bytes, dict] | None = None,
) -> float:
    port = free_port()
    data, headers = request or pubsub_push()
    signature = "http" if target == "github_webhook" else "cloudevent"
    start = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "functions_framework",
            f"--source={source}",
            f"--target={target}",
            f"--signature-type={signature}",
            "--host=127.0.0.1",
            f"--port={port}",
        ],
        env={**os.environ, **env, "PYTHONPATH": str(source.parent)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - start < 30:
            try:
                response = requests.post(
                    f"http://127.0.0.1:{port}/", data=data, headers=headers, timeout=10
                )
                if response.status_code == 200:
                    return time.perf_counter() - start
                raise RuntimeError(f"answered {response.status_code}: {response.text[:200]}")
            except requests.ConnectionError:
                time.sleep(0.005)
        raise RuntimeError("no answer within 30 s")
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = tmp / "empty" / "main.py"
        empty.parent.mkdir()
        empty.write_text(EMPTY)
        main_py = ROOT / "functions" / "main.py"
        empty_http = tmp / "empty_http" / "main.py"
        empty_http.parent.mkdir()
        empty_http.write_text(EMPTY_HTTP)
        main_py = ROOT / "functions" / "main.py"
        floors = {
            "ingest_launch": "empty CloudEvent function (floor)",
            "github_webhook": "empty HTTP function (floor)",
        }
        results: dict[str, list[float]] = {
            name: []
            for name in (
                floors["ingest_launch"],
                "ingest_launch, DuckDB warehouse",
                "ingest_launch, BigQuery warehouse",
                floors["github_webhook"],
                "github_webhook, signed push → deploy started",
            )
        }
        with (
            RecordingServer(FakeBigQuery()) as bigquery,
            RecordingServer(Downstream()) as downstream,
        ):
            webhook_env = {
                "BINDEROPS_GITHUB_WEBHOOK_SECRET": SECRET,
                "BINDEROPS_GITHUB_TOKEN": TOKEN,
                "BINDEROPS_GITHUB_API_URL": downstream.url,
                "BINDEROPS_DEPLOY_REPOS": REPO,
                "BINDEROPS_DEPLOY_BACKEND": "cloudbuild",
                "BINDEROPS_CLOUDBUILD_TRIGGER": TRIGGER,
                "BINDEROPS_CLOUDBUILD_API_URL": downstream.url,
                "GOOGLE_APPLICATION_CREDENTIALS": str(
                    service_account_file(tmp, f"{downstream.url}/token")
                ),
            }
            for n in range(args.runs):
                results[floors["ingest_launch"]].append(first_response(empty, {}))
                env = {"BINDEROPS_WAREHOUSE": f"duckdb://{tmp / f'w{n}.duckdb'}"}
                results["ingest_launch, DuckDB warehouse"].append(first_response(main_py, env))
                env = {
                    "BINDEROPS_WAREHOUSE": "bigquery://bench/launches",
                    "BINDEROPS_BIGQUERY_API_URL": bigquery.url,
                }
                results["ingest_launch, BigQuery warehouse"].append(first_response(main_py, env))
                push = signed("push", send.push_event(REPO, send.random_sha()))
                results[floors["github_webhook"]].append(
                    first_response(empty_http, {}, "github_webhook", push)
                )
                results["github_webhook, signed push → deploy started"].append(
                    first_response(main_py, webhook_env, "github_webhook", push)
                )
    rows = [("function", "median s", "min s", "max s")]
    rows += [
        (name, f"{median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}") for name, v in results.items()
    ]
    print(
        f"Cold start to first successful response, {args.runs} runs each (process spawn included)\n"
    )
    print(table(rows))
    print()
    for name in (
        "ingest_launch, DuckDB warehouse",
        "ingest_launch, BigQuery warehouse",
        "github_webhook, signed push → deploy started",
    ):
        floor = median(results[floors[name.split(",")[0]]])
        print(
            f"{name} adds {median(results[name]) - floor:.3f} s over functions-framework's own start"
        )


if __name__ == "__main__":
    main()
