"""The whole ``binderops backfill`` command beside DuckDB's own JSON reader, same file, same run.

The baseline is what a researcher types to load an archive file into DuckDB:
``CREATE TABLE launches AS SELECT * FROM read_json(FILE, columns = {...})``: no validation,
no privacy rules, no ids, no index. Each row below runs in a fresh process (its peak memory
is its own), on every core the machine has, over one synthetic archive file. The same number
of lines then comes as the archive holds them, one file per day (mybinder.org's days are
smaller still: about 11,000 launches), read together in batches: the whole archive is
projected from that rate. BigQuery cannot be reached here: its row is what the staged path
does in Python (the lines written for the load job); the deciding and merging run in
BigQuery.

    python bench/backfill.py [--events 1000000] [--days 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table, write_archive

ARCHIVE_LINES = 32.5e6  # mybinder.org's public archive since 2018

NATIVE = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("SET TimeZone = 'UTC'")
con.execute('''CREATE TABLE launches AS SELECT * FROM read_json(?, format = 'newline_delimited',
  columns = {timestamp: 'TIMESTAMPTZ', schema: 'VARCHAR', version: 'BIGINT', provider: 'VARCHAR',
  spec: 'VARCHAR', status: 'VARCHAR', origin: 'VARCHAR', ref: 'VARCHAR', build_token: 'BOOLEAN',
  request_origin: 'VARCHAR'})''', [sys.argv[1]])
assert con.execute("SELECT count(*) FROM launches").fetchone()[0] > 0
"""

# BigQuery's staged path does in Python only this to a line SQL decides: number it and write
# it, as it is, into the JSONL file its load job sends. The rest runs in BigQuery.
STAGED = """
import sys, tempfile
from pathlib import Path
from binderops.launches.staged import write_batch
with tempfile.TemporaryDirectory() as folder:
    print(write_batch([Path(sys.argv[1])], folder, lambda n: None).lines)
"""

PYTHON_PATH = """
import sys
from binderops.launches.backfill import backfill
from binderops.warehouse import open_warehouse
w = open_warehouse("duckdb://" + sys.argv[2]); w.setup()
print(backfill([sys.argv[1]], w, "mybinder.org", native=False).loaded)
w.close()
"""


def run(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{command[:4]} failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="lines in the archive (default 1,000,000)"
    )
    parser.add_argument(
        "--days", type=int, default=10, help="day files the same lines come in (default 10)"
    )
    args = parser.parse_args()
    if args.events < 1 or args.days < 1:
        parser.error("--events and --days must be positive")
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = write_archive(tmp / "events-2026-03-01.jsonl", args.events)
        size_mb = archive.stat().st_size / 1e6
        command = [python, "-m", "binderops.local.cli", "backfill", "-q", str(archive)]
        warehouse = {"BINDEROPS_WAREHOUSE": f"duckdb://{tmp / 'w.duckdb'}"}
        (tmp / "days").mkdir()
        days = [
            str(write_archive(tmp / "days" / f"events-{day:02d}.jsonl", per_day, 1 + day, day))
            for day, per_day in enumerate(_split(args.events, args.days))
        ]
        by_day = {"BINDEROPS_WAREHOUSE": f"duckdb://{tmp / 'd.duckdb'}"}
        one_file = run([python, "-c", NATIVE, str(archive), str(tmp / "n.duckdb")])
        day_files = run(
            [python, "-c", NATIVE, str(tmp / "days" / "*.jsonl"), str(tmp / "dn.duckdb")]
        )
        # Each run beside the read_json of the same files: (name, (seconds, peak), baseline).
        rows = [
            ("DuckDB read_json into a table (baseline)", one_file, one_file),
            ("binderops backfill (the whole command)", run(command, warehouse), one_file),
            ("binderops backfill again (adds nothing)", run(command, warehouse), one_file),
            (f"DuckDB read_json, as {args.days} day files (baseline)", day_files, day_files),
            (
                f"binderops backfill, as {args.days} day files",
                run([*command[:-1], *days], by_day),
                day_files,
            ),
            (
                "BigQuery: the lines staged for its load job (Python's share)",
                run([python, "-c", STAGED, str(archive)]),
                one_file,
            ),
            (
                "the Python path alone (every line in Python)",
                run([python, "-c", PYTHON_PATH, str(archive), str(tmp / "p.duckdb")]),
                one_file,
            ),
        ]
    print(
        f"Backfill of {args.events:,} lines ({size_mb:.0f} MB of JSONL), {os.cpu_count()} cores, "
        "each in a fresh process\n"
    )
    print(
        table(
            [
                ("run", "seconds", "lines/s", "vs read_json", "peak MB"),
                *(
                    (
                        name,
                        f"{seconds:.2f}",
                        f"{args.events / seconds:,.0f}",
                        f"{baseline[0] / seconds:.2f}x",
                        f"{peak:,.0f}",
                    )
                    for name, (seconds, peak), baseline in rows
                ),
            ]
        )
    )
    scale = ARCHIVE_LINES / args.events / 60
    print(
        f"\nthe whole public archive ({ARCHIVE_LINES / 1e6:.1f} million lines) at the command's "
        f"rate over day files: {scale * rows[4][1][0]:.1f} min "
        f"(read_json alone: {scale * day_files[0]:.1f} min)"
    )


def _split(events: int, days: int) -> list[int]:
    """``events`` lines shared out over ``days`` files as evenly as they go."""
    return [events // days + (1 if day < events % days else 0) for day in range(days)]


if __name__ == "__main__":
    main()
