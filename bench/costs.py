"""Cost export over a local billing export of 5 million rows: wall time and peak memory of
``binderops`` (BigQuery SQL run on DuckDB), beside a naive pure-Python aggregation of the
same rows. Each is measured in a fresh child process so peak memory is its own.

    python bench/costs.py [--rows 5000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

TABLE = "gcp_billing_export_v1_000000_000000_000000"
FIRST, LAST = date(2026, 1, 1), date(2026, 3, 1)  # 60 days
TZ = "America/Los_Angeles"


def generate(db: str, rows: int) -> None:
    import duckdb

    from binderops.local.billing_sample import create_billing_table

    con = duckdb.connect(db)
    con.execute("SET TimeZone = 'UTC'")
    create_billing_table(con, TABLE)
    con.execute(f"""
        INSERT INTO "{TABLE}" BY NAME
        SELECT
          {{'id': 'S' || (i % 8), 'description': 'Service ' || (i % 8)}} AS service,
          {{'id': 'K' || (i % 50), 'description': 'SKU ' || (i % 50)}} AS sku,
          TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds((i * 7919) % (59 * 86400)) AS usage_start_time,
          {{'id': 'project-' || (i % 4), 'number': '1', 'name': 'p', 'labels': [],
            'ancestry_numbers': ''}} AS project,
          round(((i * 31) % 1000) / 997.0, 6) AS cost,
          CASE WHEN i % 50 = 0 THEN 'EUR' ELSE 'USD' END AS currency,
          CASE i % 3
            WHEN 0 THEN []
            WHEN 1 THEN [{{'name': 'SUD', 'amount': -0.013, 'full_name': '', 'id': 'a',
                           'type': 'SUSTAINED_USAGE_DISCOUNT'}}]
            ELSE [{{'name': 'FT', 'amount': -0.002, 'full_name': '', 'id': 'b', 'type': 'FREE_TIER'}},
                  {{'name': 'P', 'amount': -0.0071, 'full_name': '', 'id': 'c', 'type': 'PROMOTION'}}]
          END AS credits,
          {{'month': '202601'}} AS invoice,
          CASE WHEN i % 1000 = 0 THEN 'tax' ELSE 'regular' END AS cost_type,
          TIMESTAMPTZ '2026-01-01 00:00:00+00'
            + to_seconds((i * 7919) % (59 * 86400) + 86400 * (i % 3)) AS export_time,
          date_trunc('day', TIMESTAMPTZ '2026-01-01 00:00:00+00'
            + to_seconds((i * 7919) % (59 * 86400) + 86400 * (i % 3))) AS _PARTITIONTIME
        FROM range({rows}) AS r(i)
    """)
    con.close()


def measure_binderops(db: str) -> dict:
    from binderops.costs import export as costs
    from binderops.warehouse import open_warehouse

    warehouse = open_warehouse(f"duckdb://{db}")
    warehouse.setup()
    start = time.perf_counter()
    result = costs.export(warehouse, TABLE, TZ, costs.Window(FIRST, LAST), [], datetime.now(UTC))
    elapsed = time.perf_counter() - start
    warehouse.close()
    return {"seconds": elapsed, "net": result.net_micros, "rows": result.rows}


def measure_naive(db: str) -> dict:
    """What one writes first: fetch every row, convert and sum in Python."""
    from zoneinfo import ZoneInfo

    import duckdb

    zone = ZoneInfo(TZ)
    con = duckdb.connect(db, read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    start = time.perf_counter()
    cursor = con.execute(
        "SELECT usage_start_time, service.description, project.id, currency, cost_type, cost, "
        f'credits FROM "{TABLE}"'
    )
    totals: dict[tuple, list[int]] = {}
    while batch := cursor.fetchmany(100_000):
        for when, service, project, currency, cost_type, cost, credits in batch:
            day = when.astimezone(zone).date()
            if not FIRST <= day <= LAST:
                continue
            key = (day, service, project, currency, cost_type or "regular")
            entry = totals.setdefault(key, [0, 0])
            entry[0] += round(cost * 1_000_000)
            entry[1] += sum(round(c["amount"] * 1_000_000) for c in credits)
    elapsed = time.perf_counter() - start
    net: dict[str, int] = {}
    for key, (cost, credit) in totals.items():
        net[key[3]] = net.get(key[3], 0) + cost + credit
    return {"seconds": elapsed, "net": net, "rows": len(totals)}


def child(kind: str, db: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", kind, db],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        kind, db = args.measure
        figures = (measure_binderops if kind == "binderops" else measure_naive)(db)
        figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "billing.duckdb")
        start = time.perf_counter()
        generate(db, args.rows)
        generated = time.perf_counter() - start
        naive = child("naive", db)
        ours = child("binderops", db)
    print(
        f"Cost export over a {args.rows:,}-row billing export, 60 days, {TZ} days (generated in "
        f"{generated:.1f} s)\n"
    )
    print(
        table(
            [
                ("path", "seconds", "rows/s", "peak MB", "output rows"),
                (
                    "naive: fetch rows, aggregate in Python",
                    f"{naive['seconds']:.2f}",
                    f"{args.rows / naive['seconds']:,.0f}",
                    f"{naive['peak_mb']:,.0f}",
                    f"{naive['rows']:,}",
                ),
                (
                    "binderops: BigQuery SQL on DuckDB + replace",
                    f"{ours['seconds']:.2f}",
                    f"{args.rows / ours['seconds']:,.0f}",
                    f"{ours['peak_mb']:,.0f}",
                    f"{ours['rows']:,}",
                ),
            ]
        )
    )
    same = naive["net"] == ours["net"]
    print(f"\nnet per currency agree to the micro: {'yes' if same else 'NO'} {ours['net']}")


if __name__ == "__main__":
    main()
