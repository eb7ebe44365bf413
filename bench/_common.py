"""Helpers the benchmarks share: synthetic archives and a tidy figures table."""

from __future__ import annotations

import json
import random
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

from binderops.local.samples import launch_event


def write_archive(path: Path, events: int, seed: int = 1, day: int = 0) -> Path:
    """An ``events-YYYY-MM-DD.jsonl`` file as the public archive has them (``day``: days
    after 2026-03-01)."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=day)
    with open(path, "w") as f:
        for n in range(events):
            when = start + timedelta(minutes=n * 1440 // events)
            event = launch_event(rng, when, version=6)
            event["timestamp"] = when.isoformat()
            f.write(json.dumps(event) + "\n")
    return path


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def median(values: list[float]) -> float:
    return statistics.median(values)
