"""Backfill throughput into DuckDB on one core, beside a naive per-event loop.

The naive loop is what one writes first: per event ``json.loads`` + ``jsonschema.validate``
+ one INSERT. Both run in this process, pinned to one core, on the same synthetic archive.

    python bench/backfill.py [--events 1000000] [--naive-events 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table, write_archive

from binderops.launches.backfill import backfill
from binderops.launches.specs import split_spec
from binderops.warehouse import open_warehouse, schemas


def naive(path: Path, db: Path, limit: int) -> float:
    import duckdb
    import jsonschema

    validators = {
        v: jsonschema.Draft7Validator(s) for v, s in schemas.launch_event_schemas().items()
    }
    con = duckdb.connect(str(db))
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE launches (event_id VARCHAR PRIMARY KEY, timestamp TIMESTAMPTZ, "
        "schema_version BIGINT, provider VARCHAR,"
        " spec VARCHAR, repo VARCHAR, ref VARCHAR, resolved_ref VARCHAR, status VARCHAR, origin VARCHAR,"
        " build_token BOOLEAN, request_origin VARCHAR, ingested_at TIMESTAMPTZ)"
    )
    now = datetime.now(UTC)
    start = time.perf_counter()
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if n > limit:
                break
            event = json.loads(line)
            validators[event["version"]].validate(event)
            when = datetime.fromisoformat(event["timestamp"]).replace(second=0, microsecond=0)
            repo, ref = split_spec(event.get("provider"), event.get("spec"))
            con.execute(
                "INSERT OR IGNORE INTO launches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    f"{path.name}:{n}",
                    when,
                    event["version"],
                    event.get("provider"),
                    event.get("spec"),
                    repo,
                    ref,
                    event.get("ref", ""),
                    event.get("status"),
                    event.get("origin"),
                    event.get("build_token"),
                    event.get("request_origin"),
                    now,
                ],
            )
    elapsed = time.perf_counter() - start
    con.close()
    return min(limit, n) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events in the archive (default 1,000,000)"
    )
    parser.add_argument(
        "--naive-events",
        type=int,
        default=5_000,
        help="events the naive loop runs on (default 5,000)",
    )
    args = parser.parse_args()
    os.sched_setaffinity(
        0, {sorted(os.sched_getaffinity(0))[0]}
    )  # one core, DuckDB's threads included

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = write_archive(tmp / "events-2026-03-01.jsonl", args.events)
        size_mb = archive.stat().st_size / 1e6
        naive_rate = naive(archive, tmp / "naive.duckdb", args.naive_events)

        warehouse = open_warehouse(f"duckdb://{tmp / 'warehouse.duckdb'}")
        warehouse.setup()
        start = time.perf_counter()
        first = backfill([archive], warehouse, "mybinder.org")
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        again = backfill([archive], warehouse, "mybinder.org")
        again_s = time.perf_counter() - start
        warehouse.close()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    assert first.loaded == args.events and again.loaded == 0
    rate = args.events / first_s
    print(f"Backfill into DuckDB, one core, {args.events:,} events ({size_mb:.0f} MB of JSONL)\n")
    print(
        table(
            [
                ("path", "events", "seconds", "events/s", "vs naive"),
                (
                    "naive: json.loads + jsonschema + INSERT per event",
                    f"{args.naive_events:,}",
                    f"{args.naive_events / naive_rate:.2f}",
                    f"{naive_rate:,.0f}",
                    "1x",
                ),
                (
                    "binderops backfill (first run)",
                    f"{args.events:,}",
                    f"{first_s:.2f}",
                    f"{rate:,.0f}",
                    f"{rate / naive_rate:,.0f}x",
                ),
                (
                    "binderops backfill (re-run, adds 0 rows)",
                    f"{args.events:,}",
                    f"{again_s:.2f}",
                    f"{args.events / again_s:,.0f}",
                    f"{args.events / again_s / naive_rate:,.0f}x",
                ),
            ]
        )
    )
    print(f"\npeak memory (max RSS): {peak_mb:,.0f} MB")
    print(f"whole public archive (~32.5 million events) at this rate: {32.5e6 / rate / 60:.1f} min")


if __name__ == "__main__":
    main()
