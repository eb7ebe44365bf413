"""Open data: ``binderops publish`` over a local warehouse of many launches, from scratch and
then with one late launch, beside a naive baseline that writes the same day files row by
row with ``json.dumps`` in the same run; then ``usage_badge`` latency from a warm function
over that warehouse, beside an empty HTTP function served the same way, and the badge's
first request, which loads every repository's counts.

The warehouse is generated, and each publish run, in a child process: each peak memory
figure is that run's own (a child starts with its parent's peak on Linux).

    python bench/archive.py [--launches 10000000] [--days 60] [--badges 3000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

from binderops.core.config import Settings, read
from binderops.local import services as local
from binderops.warehouse import open_warehouse


def start(days: int) -> date:
    """The first day: the launches end yesterday, so the dashboard's month is full of them."""
    return date.today() - timedelta(days=days)


# Built in DuckDB SQL: skewed repository popularity (a few repositories take most
# launches, as on mybinder.org), four federation members, mostly schema version 6.
GENERATE = """
INSERT INTO raw.launches
SELECT
  'bench-' || i,
  TIMESTAMPTZ '{start} 00:00:00+00' + to_minutes(CAST(i * {minutes} // {n} AS BIGINT)),
  v, p,
  'owner' || r || '/repo' || r || '/HEAD', 'owner' || r || '/repo' || r, 'HEAD',
  CASE WHEN v >= 4 THEN md5(CAST(r AS VARCHAR)) ELSE '' END,
  'success',
  ['gke.mybinder.org', 'ovh.mybinder.org', 'gesis.mybinder.org', '2i2c.mybinder.org'][1 + i % 4],
  CASE WHEN v >= 5 THEN i % 50 = 0 END,
  CASE WHEN v >= 6 THEN 'same-origin' END,
  TIMESTAMPTZ '{start} 00:00:00+00' + INTERVAL 70 DAY
FROM (
  SELECT i,
    CAST(floor(pow(hash(i) % 1000000 / 1000000.0, 3) * 20000) AS BIGINT) AS r,
    CASE WHEN i % 20 = 0 THEN 5 WHEN i % 33 = 0 THEN 3 ELSE 6 END AS v,
    CASE WHEN i % 25 = 0 THEN 'GitLab' ELSE 'GitHub' END AS p
  FROM range({n}) t(i)
)
"""
VERSION_FIELDS = {3: "origin", 4: "ref", 5: "build_token", 6: "request_origin"}
EMPTY = """import functions_framework


@functions_framework.http
def usage_badge(request):
    return "ok"
"""


def generate(path: Path, launches: int, days: int) -> None:
    warehouse = open_warehouse(f"duckdb://{path}")
    warehouse.setup()
    with warehouse.session() as con:
        con.execute(GENERATE.format(start=start(days), minutes=days * 1440, n=launches))
    warehouse.close()


def child_generate(workdir: Path, launches: int, days: int) -> dict:
    start = time.perf_counter()
    generate(workdir / "w.duckdb", launches, days)
    return {"seconds": time.perf_counter() - start, "days": days, "months": 0}


def child_publish(workdir: Path) -> dict:
    from binderops.core import logs
    from binderops.launches import archive

    logs.setup({})  # the run logs its phases: run_child shows them

    settings = read(
        Settings,
        {"BINDEROPS_STATE_DIR": str(workdir), "BINDEROPS_PUBLIC_DIR": str(workdir / "public")},
    )
    warehouse = open_warehouse(f"duckdb://{workdir / 'w.duckdb'}")
    start = time.perf_counter()
    result = archive.publish(warehouse, settings, {}, date.today())
    warehouse.close()  # the checkpoint that makes the run's table writes durable counts too
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "days": len(result.written), "months": len(result.months)}


def child_dashboard(workdir: Path) -> dict:
    """dashboard.publish (page and live.json) over the same warehouse, beside one scan of
    the launches (the floor any page drawn from them pays)."""
    from binderops import dashboard

    settings = read(
        Settings,
        {"BINDEROPS_STATE_DIR": str(workdir), "BINDEROPS_PUBLIC_DIR": str(workdir / "public")},
    )
    warehouse = open_warehouse(f"duckdb://{workdir / 'w.duckdb'}")
    start = time.perf_counter()
    # A distinct count of a string column: DuckDB reads every launch (a distinct count of
    # event_id, the key it keeps unique, would not read any).
    warehouse.query("SELECT COUNT(DISTINCT repo) AS n FROM raw.launches")
    scan = time.perf_counter() - start
    start = time.perf_counter()
    dashboard.publish(warehouse, settings, date.today())
    seconds = time.perf_counter() - start
    warehouse.close()
    size = (workdir / "public" / "dashboard" / "index.html").stat().st_size
    return {"seconds": seconds, "scan": scan, "days": 0, "months": 0, "size": size}


def child_naive(workdir: Path) -> dict:
    """The day files, one row at a time: fetch, a dict per event, ``json.dumps``, write."""
    import duckdb

    out = workdir / "naive"
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    con = duckdb.connect(str(workdir / "w.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    query = "SELECT DISTINCT CAST(timestamp AS DATE) FROM raw.launches"
    days = [d for (d,) in con.execute(query).fetchall()]
    for day in sorted(days):
        cursor = con.execute(
            "SELECT timestamp, schema_version, provider, spec, resolved_ref, status, build_token, "
            "origin, request_origin FROM raw.launches WHERE CAST(timestamp AS DATE) = ? "
            "ORDER BY timestamp, event_id",
            [day],
        )
        lines = []
        while batch := cursor.fetchmany(10_000):
            for ts, version, provider, spec, ref, status, token, origin, request_origin in batch:
                event = {
                    "timestamp": ts.strftime("%Y-%m-%dT%H:%M:00+00:00"),
                    "schema": "binderhub.jupyter.org/launch",
                    "version": version,
                }
                fields = {
                    "provider": provider,
                    "spec": spec,
                    "ref": ref if version >= 4 else None,
                    "status": status,
                    "build_token": token if version >= 5 else None,
                    "origin": origin if version >= 3 else None,
                    "request_origin": request_origin if version >= 6 else None,
                }
                event.update((k, v) for k, v in fields.items() if v is not None)
                lines.append(json.dumps(event) + "\n")
        with open(out / f"events-{day}.jsonl", "w") as f:
            f.writelines(lines)
    con.close()
    return {"seconds": time.perf_counter() - start, "days": len(days), "months": 0}


def run_child(kind: str, workdir: Path, *extra: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--workdir", str(workdir), *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.splitlines()[-1])
    for line in result.stderr.splitlines():
        if "publish: " in line:
            print("  " + line.split("publish: ", 1)[1])
    figures["peak_mb"] = figures.pop("rss_kb") / 1024
    return figures


def late_launch(workdir: Path, day: date) -> None:
    from binderops.launches.events import LaunchRow

    when = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
    row = LaunchRow(
        "bench-late",
        when,
        6,
        "GitHub",
        "late/one/HEAD",
        "late/one",
        "HEAD",
        "abc",
        "success",
        "gke.mybinder.org",
        False,
        "same-origin",
        datetime.now(UTC),
    )
    warehouse = open_warehouse(f"duckdb://{workdir / 'w.duckdb'}")
    warehouse.load("launches", [row])
    warehouse.close()


def latencies(url: str, queries: list[str]) -> list[float]:
    session = requests.Session()
    timings = []
    for query in queries:
        start = time.perf_counter()
        response = session.get(f"{url}/?{query}", timeout=30)
        timings.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{query}: {response.status_code} {response.text[:200]}")
    return timings


def badge_rows(name: str, timings: list[float]) -> tuple[str, ...]:
    ms = sorted(t * 1000 for t in timings)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (name, f"{len(ms):,}", f"{statistics.median(ms):.2f}", f"{p99:.2f}", f"{ms[-1]:.1f}")


def bench_badges(workdir: Path, count: int) -> list[tuple[str, ...]]:
    rng = random.Random(7)
    known = [f"repo=owner{r}/repo{r}" for r in range(0, 20000, 7)]
    queries = [
        rng.choice(known) + "&period=" + rng.choice(["7d", "30d", "1y", "all"])
        if rng.random() < 0.9
        else f"repo=nobody/none{rng.randrange(10**6)}"
        for _ in range(count)
    ]
    (workdir / "empty").mkdir(exist_ok=True)
    (workdir / "empty" / "main.py").write_text(EMPTY)
    env = {"BINDEROPS_WAREHOUSE": f"duckdb://{workdir / 'w.duckdb'}"}
    empty = local.start_function(
        "usage_badge", {}, workdir / "logs", source=workdir / "empty" / "main.py"
    )
    badge = local.start_function("usage_badge", env, workdir / "logs")
    try:
        # The badge's first request loads every repository's counts; the instance then
        # answers from memory, and loads them again an hour later.
        first = latencies(badge.url, queries[:1])
        latencies(empty.url, queries[:100])  # warm both
        latencies(badge.url, queries[:100])
        return [
            badge_rows("empty HTTP function (baseline)", latencies(empty.url, queries)),
            badge_rows("usage_badge (10% unknown repos)", latencies(badge.url, queries)),
            badge_rows("usage_badge's first request (loads the counts)", first),
        ]
    finally:
        badge.stop()
        empty.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=10_000_000, help="default 10,000,000")
    parser.add_argument("--days", type=int, default=60, help="days they span (default 60)")
    parser.add_argument("--badges", type=int, default=3000, help="badge requests (default 3000)")
    parser.add_argument(
        "--no-naive", action="store_true", help="skip the naive baseline (four minutes at 10 M)"
    )
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    kinds = ["generate", "publish", "naive", "dashboard"]
    parser.add_argument("--child", choices=kinds, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "generate":
            figures = child_generate(args.workdir, args.launches, args.days)
        else:
            run = {"publish": child_publish, "naive": child_naive, "dashboard": child_dashboard}
            figures = run[args.child](args.workdir)
        figures["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(figures))
        return

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        made = run_child(
            "generate", workdir, "--launches", str(args.launches), "--days", str(args.days)
        )
        print(
            f"generated {args.launches:,} launches over {args.days} days in {made['seconds']:.1f} s"
        )
        naive = None if args.no_naive else run_child("naive", workdir)
        scratch = run_child("publish", workdir)
        day = start(args.days) + timedelta(days=args.days // 2)
        naive_day = workdir / "naive" / f"events-{day}.jsonl"
        published_day = workdir / "public" / f"events-{day}.jsonl"
        same = naive is not None and naive_day.read_bytes() == published_day.read_bytes()
        late_launch(workdir, day)
        one = run_child("publish", workdir)
        rows = [("run", "day files", "months", "seconds", "peak MB")]
        for name, f in (
            *([("naive json.dumps, day files only (baseline)", naive)] if naive else []),
            ("binderops publish, from scratch", scratch),
            ("binderops publish, one late launch", one),
        ):
            rows.append(
                (
                    name,
                    str(f["days"]),
                    str(f["months"]),
                    f"{f['seconds']:.2f}",
                    f"{f['peak_mb']:.0f}",
                )
            )
        print(table(rows))
        if naive:
            print(f"naive and published {day} files identical: {same}")
        size = sum(p.stat().st_size for p in (workdir / "public").iterdir() if p.is_file()) / 1e6
        print(f"published {size:.0f} MB\n")
        board = run_child("dashboard", workdir)
        print(
            table(
                [
                    ("dashboard", "seconds", "peak MB"),
                    ("one scan of the launches (baseline)", f"{board['scan']:.2f}", ""),
                    (
                        f"dashboard.publish (page {board['size'] / 1000:.0f} KB, live.json)",
                        f"{board['seconds']:.2f}",
                        f"{board['peak_mb']:.0f}",
                    ),
                ]
            )
            + "\n"
        )
        rows = [("badge", "requests", "p50 ms", "p99 ms", "max ms")]
        rows += bench_badges(workdir, args.badges)
        print(table(rows))
        shutil.rmtree(workdir / "naive", ignore_errors=True)


if __name__ == "__main__":
    main()
