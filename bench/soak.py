"""Soak: 10,000 launch events through the Pub/Sub emulator into functions-framework, each
published up to three times, with one warehouse write in five failing. Beside it, in the
same run, the same events published once into the plain function (no faults).

    python bench/soak.py [--events 10000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table

from binderops.local import samples as sample
from binderops.local import services as local
from binderops.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 900


def counts(warehouse) -> dict:
    try:
        return warehouse.query(
            "SELECT (SELECT COUNT(*) FROM raw.launches) AS launches, (SELECT COUNT(DISTINCT "
            "event_id) FROM raw.launches) AS ids,"
            " (SELECT COUNT(*) FROM raw.launch_errors) AS errors"
        )[0]
    finally:
        warehouse.close()


def run(
    emulator, tmp: Path, name: str, source: Path, deliveries, expected: int
) -> tuple[float, dict]:
    url = f"duckdb://{tmp / name / 'w.duckdb'}"
    function = local.start_function(
        "ingest_launch", {"BINDEROPS_WAREHOUSE": url}, tmp / name, source=source
    )
    try:
        wiring = local.PubSubWiring("binderops-bench", f"launch-{name}", function.url)
        wiring.create(emulator.url)
        warehouse = open_warehouse(url)
        start = time.perf_counter()
        wiring.publish(deliveries)
        while (c := counts(warehouse))["launches"] + c["errors"] < expected:
            if time.perf_counter() - start > TIMEOUT:
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - start
        time.sleep(3)  # late redeliveries must not add rows
        return elapsed, counts(warehouse)
    finally:
        function.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    messages = sample.sample_day(launches=args.events, seed=11)
    valid = sum(m.valid for m in messages)
    rng = random.Random(5)
    once = [(m.data, m.attributes) for m in messages]
    repeated = [d for d in once for _ in range(rng.randint(1, 3))]
    rng.shuffle(repeated)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        emulator = local.start_emulator("binderops-bench", tmp)
        try:
            base_s, base = run(
                emulator, tmp, "plain", ROOT / "functions" / "main.py", once, len(messages)
            )
            soak_s, soak = run(
                emulator, tmp, "faults", ROOT / "tests" / "faulty_main.py", repeated, len(messages)
            )
        finally:
            emulator.stop()
    print(
        f"{len(messages):,} messages ({valid:,} valid launches) through the Pub/Sub emulator into "
        "functions-framework\n"
    )
    print(
        table(
            [
                (
                    "run",
                    "deliveries published",
                    "seconds",
                    "messages/s",
                    "rows",
                    "distinct ids",
                    "errors",
                ),
                (
                    "baseline: published once, no faults",
                    f"{len(once):,}",
                    f"{base_s:.1f}",
                    f"{len(messages) / base_s:,.0f}",
                    f"{base['launches']:,}",
                    f"{base['ids']:,}",
                    f"{base['errors']}",
                ),
                (
                    "soak: up to 3 publishes, 1 in 5 writes fail",
                    f"{len(repeated):,}",
                    f"{soak_s:.1f}",
                    f"{len(messages) / soak_s:,.0f}",
                    f"{soak['launches']:,}",
                    f"{soak['ids']:,}",
                    f"{soak['errors']}",
                ),
            ]
        )
    )
    ok = soak["launches"] == soak["ids"] == valid and soak["errors"] == len(messages) - valid
    print(f"\nexactly one row per event: {'yes' if ok else 'NO'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
