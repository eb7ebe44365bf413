"""Ingest throughput with metrics on: CloudEvents through ``ingest_launch`` (functions-framework's
app, in process) with ``BINDEROPS_METRICS=monitoring`` writing to a loopback gRPC Monitoring
server, beside ``off`` and ``warehouse``, in rounds that alternate so drift hits all alike.
Also the cost of one ``Recorder.add`` beside an empty call.

    python bench/metrics.py [--events 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _common import table
from cloudevents.conversion import to_binary
from events import pubsub_event
from fakes.monitoring import FakeMonitoring

from binderops import instance, metrics
from binderops.metrics.sinks import WarehouseSink

ROOT = Path(__file__).resolve().parent.parent
EVENT = {
    "timestamp": "2026-03-01T12:34:56Z",
    "version": 6,
    "provider": "GitHub",
    "spec": "binder-examples/requirements/HEAD",
    "status": "success",
}
ORIGINS = ["gke.mybinder.org", "ovh.mybinder.org", "gesis.mybinder.org", "2i2c.mybinder.org"]


def throughput(mode: str, folder: Path, events: int, monitoring_url: str, offset: int) -> float:
    from functions_framework import create_app

    os.environ.update(
        BINDEROPS_WAREHOUSE=f"duckdb://{folder / f'{mode}.duckdb'}",
        BINDEROPS_METRICS=mode,
        BINDEROPS_MONITORING_API_URL=monitoring_url,
    )
    instance.reset()
    client = create_app(
        "ingest_launch", str(ROOT / "functions/main.py"), "cloudevent"
    ).test_client()
    # main.py set logging up as it imported: a line per launch is not what is measured.
    logging.getLogger("binderops").setLevel(logging.WARNING)
    bodies = []
    for n in range(events):
        event = {**EVENT, "origin": ORIGINS[n % 4]}
        attributes = {"event_id": f"{mode}-{offset + n}"}
        bodies.append(to_binary(pubsub_event(json.dumps(event).encode(), attributes)))
    start = time.perf_counter()
    for headers, body in bodies:
        if client.post("/", headers=headers, data=body).status_code != 200:
            raise SystemExit(f"{mode}: a launch was not stored")
    seconds = time.perf_counter() - start
    instance.metrics().write()
    instance.warehouse().close()
    return events / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=2000, help="launches per round (default 2000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per mode (default 3)")
    args = parser.parse_args()
    modes = ["off", "warehouse", "monitoring"]
    rates: dict[str, list[float]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory() as tmp, FakeMonitoring() as fake:
        folder = Path(tmp)
        throughput("off", folder, 200, fake.url, 10**7)  # warm imports and the first DuckDB file
        for r in range(args.rounds):
            for mode in modes if r % 2 == 0 else reversed(modes):
                rates[mode].append(throughput(mode, folder, args.events, fake.url, r * args.events))
        calls = len(fake.calls)

    base = statistics.median(rates["off"])
    rows = [("BINDEROPS_METRICS", "launches/s (median)", "vs off")]
    for mode in modes:
        rate = statistics.median(rates[mode])
        rows.append(
            (
                f"{mode}{' (baseline)' if mode == 'off' else ''}",
                f"{rate:,.0f}",
                f"{rate / base - 1:+.1%}",
            )
        )
    print(table(rows))
    print(
        f"\ncreate_time_series calls in all monitoring rounds: {calls} "
        "(one per instance at its first launch, one at the end)"
    )

    recorder = metrics.Recorder(WarehouseSink(None), interval=10**9)
    recorder._last_write = time.time()
    labels = {"origin": "gke.mybinder.org", "provider": "GitHub", "status": "success"}
    n = 200_000
    add = timeit.timeit(lambda: recorder.add("launches", labels), number=n) / n
    empty = timeit.timeit(lambda: None, number=n) / n
    print(
        table(
            [
                ("call", "µs each"),
                ("empty lambda (baseline)", f"{empty * 1e6:.2f}"),
                ("Recorder.add", f"{add * 1e6:.2f}"),
            ]
        )
    )


if __name__ == "__main__":
    main()
