"""Cold start: a fresh ``functions-framework --target ingest_launch`` process to its first
successful response, beside an empty CloudEvent function measured the same way. ingest_launch
runs twice: on DuckDB (local mode) and on BigQuery (production's path: the google-cloud-bigquery
client is imported and created on the first request), answered by the loopback fake of the tests.

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

from _common import median, table  # noqa: E402

from binderops.local import free_port  # noqa: E402
from fakes.bigquery import FakeBigQuery  # noqa: E402
from fakes.http import RecordingServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EMPTY = '''import functions_framework


@functions_framework.cloud_event
def ingest_launch(cloud_event):
    return None
'''
EVENT = {"timestamp": "2026-03-01T12:00:00Z", "version": 6, "provider": "GitHub", "spec": "a/b/HEAD", "status": "success"}


def first_response(source: Path, env: dict) -> float:
    port = free_port()
    body = {"message": {"data": base64.b64encode(json.dumps(EVENT).encode()).decode(), "messageId": "1", "attributes": {}}, "subscription": "s"}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "functions_framework", f"--source={source}", "--target=ingest_launch",
         "--signature-type=cloudevent", "--host=127.0.0.1", f"--port={port}"],
        env={**os.environ, **env, "PYTHONPATH": str(source.parent)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while time.perf_counter() - start < 30:
            try:
                response = requests.post(f"http://127.0.0.1:{port}/", json=body, timeout=5)
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = tmp / "empty" / "main.py"
        empty.parent.mkdir()
        empty.write_text(EMPTY)
        main_py = ROOT / "functions" / "main.py"
        results = {
            "empty CloudEvent function (floor)": [],
            "ingest_launch, DuckDB warehouse": [],
            "ingest_launch, BigQuery warehouse": [],
        }
        with RecordingServer(FakeBigQuery()) as bigquery:
            for n in range(args.runs):
                results["empty CloudEvent function (floor)"].append(first_response(empty, {}))
                env = {"BINDEROPS_WAREHOUSE": f"duckdb://{tmp / f'w{n}.duckdb'}"}
                results["ingest_launch, DuckDB warehouse"].append(first_response(main_py, env))
                env = {"BINDEROPS_WAREHOUSE": "bigquery://bench/launches", "BINDEROPS_BIGQUERY_API_URL": bigquery.url}
                results["ingest_launch, BigQuery warehouse"].append(first_response(main_py, env))
    rows = [("function", "median s", "min s", "max s")]
    rows += [(name, f"{median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}") for name, v in results.items()]
    print(f"Cold start to first successful response, {args.runs} runs each (process spawn included)\n")
    print(table(rows))
    print()
    floor = median(results["empty CloudEvent function (floor)"])
    for name in ("ingest_launch, DuckDB warehouse", "ingest_launch, BigQuery warehouse"):
        print(f"{name} adds {median(results[name]) - floor:.3f} s over functions-framework's own start")


if __name__ == "__main__":
    main()
