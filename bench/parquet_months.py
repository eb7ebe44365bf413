"""A month of launches from its days' Parquet files: binderops' join (row groups copied,
one footer written, nothing decoded) beside the two library ways, measured in the same run:
pyarrow reading every day and writing the month, and DuckDB copying the days into one file.
Each month file is read back and checked equal to the days.

    python bench/parquet_months.py [--days 30] [--rows 150000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

from binderops.warehouse.parquet import join

DAY = """
COPY (
  SELECT TIMESTAMPTZ '2026-03-{day:02d} 00:00:00+00' + i * INTERVAL 500 MILLISECOND AS timestamp,
         6 - i % 3 AS schema_version,
         ['GitHub', 'Gist', 'GitLab', 'Git', 'Zenodo'][1 + i % 5] AS provider,
         'owner' || (i * 7919 % 40000) || '/repo/HEAD' AS spec,
         'owner' || (i * 7919 % 40000) || '/repo' AS repo,
         'HEAD' AS ref, md5(i::VARCHAR) AS resolved_ref, 'success' AS status,
         ['gke.mybinder.org', 'ovh.mybinder.org', 'gesis.mybinder.org'][1 + i % 3] AS origin,
         i % 20 = 0 AS build_token, ['same-origin', 'cross-site', ''][1 + i % 3] AS request_origin
  FROM range({rows}) t(i)
) TO '{path}' (FORMAT parquet, COMPRESSION zstd)
"""


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30, help="days in the month (default 30)")
    parser.add_argument("--rows", type=int, default=150_000, help="launches a day (default 150000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        con = duckdb.connect()
        days = []
        for day in range(1, args.days + 1):
            path = folder / f"day-{day:02d}.parquet"
            con.execute(DAY.format(day=day, rows=args.rows, path=path))
            days.append(path)
        joined, rewritten, copied = (folder / f"{n}.parquet" for n in ("join", "pyarrow", "duckdb"))

        def with_pyarrow() -> None:
            schema = pq.read_schema(days[0])
            with pq.ParquetWriter(rewritten, schema, compression="zstd") as writer:
                for path in days:
                    writer.write_table(pq.read_table(path))

        def with_duckdb() -> None:
            listed = ", ".join(f"'{p}'" for p in days)
            con.execute(
                f"COPY (SELECT * FROM read_parquet([{listed}])) TO '{copied}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )

        rows = []
        for name, action, path in (
            ("pyarrow: read every day, write the month (baseline)", with_pyarrow, rewritten),
            ("DuckDB: COPY the days into one file", with_duckdb, copied),
            ("binderops: join the row groups, one new footer", lambda: join(days, joined), joined),
        ):
            seconds = min(timed(action) for _ in range(3))
            rows.append((name, f"{seconds:.3f}", f"{path.stat().st_size / 1e6:.1f}"))
        whole = pq.read_table(rewritten)
        assert pq.read_table(joined).equals(whole), "the joined month differs from pyarrow's"
        assert con.execute(f"SELECT COUNT(*) FROM '{copied}'").fetchone()[0] == whole.num_rows
    total = args.days * args.rows
    print(f"A month of {args.days} days, {total:,} launches; the best of three runs each\n")
    print(table([("way", "seconds", "MB"), *rows]))


if __name__ == "__main__":
    main()
