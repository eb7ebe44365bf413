"""Load mybinder.org archive files (``events-YYYY-MM-DD.jsonl``) into the warehouse.

Each line goes through the same validation and normalisation as a Pub/Sub message. Its
``event_id`` is the file name and line number, so a re-run of the same file adds no rows
while two identical launches on two lines both count. Rows go in bulk (load jobs on
BigQuery, which cost nothing, rather than streaming).
"""

from __future__ import annotations

import gc
import gzip
import zlib
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ..core.errors import Drop
from ..warehouse import Warehouse
from .events import InvalidEvent, LaunchErrorRow, redact, to_row

BATCH_ROWS = 250_000


class InvalidArchive(Drop):
    """A file that cannot be read as an archive (not gzip, cut short, unreadable)."""

    kind = "invalid_archive"


@dataclass
class BackfillResult:
    lines: int = 0
    loaded: int = 0
    rejected: int = 0
    files: list[str] = field(default_factory=list)


@contextmanager
def _no_cyclic_gc():
    """The loop makes millions of tuples and no reference cycles; the cyclic collector
    would rescan the growing batch again and again for nothing (about a fifth of the run)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _reading(path: Path):
    """Faults of the file itself as InvalidArchive, naming it. Lines read before the fault
    are loaded; a re-run once the file is fixed adds none of them twice."""
    try:
        yield
    except (OSError, EOFError, zlib.error) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
        raise InvalidArchive(f"{path}: cannot be read ({reason})") from None


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def backfill(
    paths: Iterable[Path],
    warehouse: Warehouse,
    default_origin: str,
    progress: Callable[[int], None] = lambda n: None,
    batch_rows: int = BATCH_ROWS,
) -> BackfillResult:
    """Load every line of every file; return counts. ``progress`` is told of bytes read, a batch at a time."""
    result = BackfillResult()
    rows: list[tuple] = []
    errors: list[tuple] = []

    def flush() -> None:
        result.loaded += warehouse.load("launches", rows)
        warehouse.load("launch_errors", errors)
        rows.clear()
        errors.clear()

    loads = orjson.loads
    with warehouse.session(), _no_cyclic_gc():
        for path in paths:
            path = Path(path)
            name = path.name.removesuffix(".gz")
            result.files.append(name)
            ingested_at = datetime.now(UTC)
            reported = 0
            blank = 0
            number = 0
            with _reading(path), _open(path) as lines:
                for number, line in enumerate(lines, 1):
                    if line.isspace():  # stops at the first character of an event line
                        blank += 1
                        continue
                    event_id = f"{name}:{number}"
                    try:
                        event = loads(line)
                        if not isinstance(event, dict):
                            raise InvalidEvent("line is JSON but not an object", kind="json")
                        rows.append(to_row(event, event_id, ingested_at, default_origin))
                    except ValueError as e:  # InvalidEvent and orjson.JSONDecodeError
                        if isinstance(e, InvalidEvent):
                            reason = str(e)
                        else:
                            reason = f"line is not valid JSON: {e}"
                        text = redact(line.decode("utf-8", "replace"))
                        errors.append(
                            LaunchErrorRow(event_id, ingested_at, redact(reason, 500), text)
                        )
                        result.rejected += 1
                    if len(rows) >= batch_rows:
                        progress(lines.tell() - reported)
                        reported = lines.tell()
                        flush()
                progress(lines.tell() - reported)
            result.lines += number - blank
        flush()
    return result
