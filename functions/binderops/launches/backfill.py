"""Load mybinder.org archive files (``events-YYYY-MM-DD.jsonl[.gz]``) into the warehouse,
exactly once.

**Ids from content.** A line's ``event_id`` is ``archive:DAY:KEY:N``: its UTC day, a key
from its launch row's content (``content_key``), and N, its occurrence among the lines of
its file with the same key (two identical launches in one minute are two launches). A
renamed, recompressed, re-sorted or re-published copy of a file gives the same ids, so a
re-run adds only what is new. Error rows get ``archive:error:KEY:N`` from the line's bytes.

**Live and archive never overlap.** A day that already holds launches ingested live (any
id not made here) is skipped and reported; ``replace_live`` deletes those launches and loads
the archive's in one transaction.

**Two paths, one result.** Each line is decided in SQL generated from the launch schemas
where the warehouse is: on DuckDB, which reads the files itself (``native``, ``fast``); on
BigQuery, where the lines go as they are by a load job (``staged``). What that SQL cannot
decide goes through the Python path (``events.to_row``). Rows go in bulk (load jobs on
BigQuery, which cost nothing, never streaming).
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from ..core.errors import Drop
from ..core.logs import log
from ..warehouse import Warehouse, schemas
from .events import InvalidEvent, LaunchErrorRow, LaunchRow, redact, to_row, unwrap

PREFIX = "archive:"
BATCH_ROWS = 250_000
# A launch row's columns but its id, which the fast paths give in SQL.
ROW_COLUMNS = LaunchRow._fields[1:]
# The fast paths read files in batches of about this many bytes (one scan of the deciding SQL).
BATCH_BYTES = 256 * 1024 * 1024
_make_row = tuple.__new__


class InvalidArchive(Drop):
    """A file that cannot be read as an archive (not gzip, cut short, unreadable)."""

    kind = "invalid_archive"


@dataclass
class BackfillResult:
    paths: list[Path] = field(default_factory=list)
    lines: int = 0
    loaded: int = 0
    rejected: int = 0
    first_reason: str = ""  # of the first rejected line, as its error row says
    days: set[date] = field(default_factory=set)  # days with launches in the input
    # Days skipped (or, with replace_live, replaced) because they held live launches: how many.
    live: dict[date, int] = field(default_factory=dict)
    replaced: bool = False
    skipped: int = 0  # launches of the archive on skipped days
    undecided: int = 0  # lines the fast path left to the Python path

    @property
    def launches(self) -> int:
        """Lines that were launches (loaded now, loaded before, or on a skipped day)."""
        return self.lines - self.rejected


def content_key(row: LaunchRow) -> str:
    """A launch row's content, hashed: what makes two archive lines the same launch. The
    fast path computes the same in SQL (``native.key_sql``)."""
    parts = (
        row.timestamp.strftime("%Y-%m-%dT%H:%M"),
        str(row.schema_version),
        row.provider,
        row.spec,
        row.resolved_ref,
        row.status,
        row.origin,
        None if row.build_token is None else ("true" if row.build_token else "false"),
        row.request_origin,
    )
    text = "\x1f".join("\x1e" if p is None else p for p in parts)
    return hashlib.md5(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[
        :20
    ]


def _error_key(line: bytes) -> str:
    return hashlib.md5(line.strip(), usedforsecurity=False).hexdigest()[:20]


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
def reading(path: Path):
    """Faults of the file itself as InvalidArchive, naming it. Lines read before the fault
    are loaded; a re-run once the file is fixed adds none of them twice."""
    try:
        yield
    except (OSError, EOFError, zlib.error) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e) or type(e).__name__
        raise InvalidArchive(f"{path}: cannot be read ({reason})") from None


def open_archive(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


class LineReader:
    """One file's launches through the Python path: each line's row (with its id) or error
    row, numbered as the fast path numbers them (non-blank lines from 1)."""

    def __init__(self, ingested_at: datetime, default_origin: str) -> None:
        self.ingested_at = ingested_at
        self.default_origin = default_origin
        self.keys: Counter[str] = Counter()
        self.error_keys: Counter[str] = Counter()

    def row(self, line: bytes) -> LaunchRow | LaunchErrorRow:
        try:
            event = orjson.loads(line)
            if not isinstance(event, dict):
                raise InvalidEvent("line is JSON but not an object", kind="json")
            row = to_row(unwrap(event), "", self.ingested_at, self.default_origin)
        except ValueError as e:  # InvalidEvent and orjson.JSONDecodeError
            reason = str(e) if isinstance(e, InvalidEvent) else f"line is not valid JSON: {e}"
            key = _error_key(line)
            event_id = f"{PREFIX}error:{key}:{self.error_keys[key]}"
            self.error_keys[key] += 1
            text = redact(line.decode("utf-8", "replace"))
            return LaunchErrorRow(event_id, self.ingested_at, redact(reason, 500), text)
        key = content_key(row)
        occurrence = self.keys[key]
        self.keys[key] = occurrence + 1
        event_id = f"{PREFIX}{row.timestamp:%Y-%m-%d}:{key}:{occurrence}"
        return _make_row(LaunchRow, (event_id, *row[1:]))


def batches(files: Sequence[Path]) -> Iterator[list[Path]]:
    """``files`` in batches of about BATCH_BYTES (a batch is one scan of the SQL that decides
    its lines)."""
    batch: list[Path] = []
    size = 0
    for path in files:
        batch.append(path)
        size += path.stat().st_size
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def numbered(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines with their number among them (as DuckDB's reader counts rows)."""
    number = 0
    for line in lines:
        if not line.isspace():  # stops at the first character of an event line
            number += 1
            yield number, line


@dataclass
class Decided:
    """Lines decided in Python, by their number: launch rows and error rows."""

    rows: list[tuple[int, LaunchRow]]
    errors: list[tuple[int, LaunchErrorRow]]


def python_rows(
    path: Path, ordinals: Sequence[int], ingested_at: datetime, default_origin: str
) -> Decided | None:
    """The lines of ``path`` numbered ``ordinals`` that the SQL of a fast path left
    undecided, through the Python path (their ids are given in SQL, beside the others'). None
    when the file's non-blank lines do not number as the SQL's reader numbered them."""
    lines = LineReader(ingested_at, default_origin)
    wanted = set(ordinals)
    found = Decided([], [])
    with reading(path), open_archive(path) as f:
        for number, line in numbered(f):
            if number not in wanted:
                continue
            wanted.discard(number)
            row = lines.row(line)
            if isinstance(row, LaunchErrorRow):
                found.errors.append((number, row))
            else:
                found.rows.append((number, row))
    return None if wanted else found


def backfill(
    paths: Iterable[Path],
    warehouse: Warehouse,
    default_origin: str,
    progress: Callable[[int], None] = lambda n: None,
    *,
    replace_live: bool = False,
    native: bool = True,
    ingested_at: datetime | None = None,
    batch_rows: int = BATCH_ROWS,
) -> BackfillResult:
    """Load every launch of every file once; return what happened. ``progress`` is told of
    bytes read. ``native=False`` keeps every line to the Python path (the tests compare)."""
    files = list(dict.fromkeys(Path(p).resolve() for p in paths))  # a file named twice is one
    result = BackfillResult(paths=files, replaced=replace_live)
    loader = Loader(warehouse, result, replace_live)
    when = ingested_at or datetime.now(UTC)
    with warehouse.session(), _no_cyclic_gc():
        from ..warehouse.bigquery import BigQueryWarehouse
        from ..warehouse.duckdb import DuckDBWarehouse

        if native and isinstance(warehouse, DuckDBWarehouse):
            from .fast import load_natively

            load_natively(files, warehouse, loader, when, default_origin, progress)
        elif native and isinstance(warehouse, BigQueryWarehouse):
            from .staged import load_staged

            load_staged(files, warehouse, loader, when, default_origin, progress)
        else:
            for path in files:
                load_python(path, loader, LineReader(when, default_origin), progress, batch_rows)
        loader.flush()
    return result


def load_python(
    path: Path,
    loader: Loader,
    lines: LineReader,
    progress: Callable[[int], None],
    batch_rows: int,
) -> None:
    """The Python path over every line of one file."""
    reported = 0
    with reading(path), open_archive(path) as f:
        for number, line in numbered(f):
            loader.result.lines += 1
            loader.add(lines.row(line), path, number)
            if len(loader.rows) >= batch_rows:
                progress(f.tell() - reported)
                reported = f.tell()
                loader.flush()
        progress(f.tell() - reported)


class Loader:
    """Rows on their way to the warehouse: counted, checked against live days, loaded."""

    def __init__(self, warehouse: Warehouse, result: BackfillResult, replace_live: bool) -> None:
        self.warehouse = warehouse
        self.result = result
        self.replace_live = replace_live
        self.rows: list[LaunchRow] = []
        self.errors: list[LaunchErrorRow] = []
        self.order = {path: n for n, path in enumerate(result.paths)}
        self.first: tuple[int, int] | None = None

    def add(self, row: LaunchRow | LaunchErrorRow, path: Path, number: int) -> None:
        """Take a line's row; ``path`` and ``number`` say where the line is (for the first
        rejection in the input's order, whichever path found it first)."""
        if isinstance(row, LaunchErrorRow):
            self.errors.append(row)
            self.result.rejected += 1
            where = (self.order[path], number)
            if self.first is None or where < self.first:
                self.first, self.result.first_reason = where, row.reason
        else:
            self.rows.append(row)

    def live_days(self, days: Iterable[date]) -> dict[date, int]:
        """Of ``days``, those holding launches not loaded from the archive, with how many."""
        days = sorted(set(days))
        if not days:
            return {}
        found = self.warehouse.query(
            schemas.sql_in("backfill/live_days", self.warehouse.names),
            {"first": days[0], "last": days[-1]},
        )
        wanted = set(days)
        live = {r["day"]: int(r["launches"]) for r in found if r["day"] in wanted}
        self.result.live.update(live)
        return live

    def check_days(self, launches: Mapping[date, int]) -> tuple[dict[date, int], list[date]]:
        """Note a batch's ``launches`` per day; return its days holding live launches (with
        how many) and the days to skip: those, unless ``replace_live``. The launches of the
        skipped days are counted as skipped."""
        self.result.days |= set(launches)
        live = self.live_days(launches)
        skip = [] if self.replace_live else sorted(live)
        self.result.skipped += sum(launches[day] for day in skip)
        return live, skip

    def delete_live(self, days: Sequence[date]) -> tuple[str, dict[str, Any]]:
        """The statement that deletes ``days``' live launches, and its parameters."""
        return schemas.sql_in("backfill/delete_live", self.warehouse.names), {"days": list(days)}

    def flush(self) -> None:
        rows, errors = self.rows, self.errors
        self.rows, self.errors = [], []
        if errors:
            self.warehouse.load("launch_errors", errors)
        if not rows:
            return
        live, skip = self.check_days(Counter(row.timestamp.date() for row in rows))
        if skip:
            rows = [row for row in rows if row.timestamp.date() not in live]
        if live and self.replace_live:
            statement, params = self.delete_live(sorted(live))
            self.result.loaded += self.warehouse.load(
                "launches", rows, first=statement, params=params
            )
        else:
            self.result.loaded += self.warehouse.load("launches", rows)
        log.info("backfill: %d launches loaded so far", self.result.loaded)


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def summary(result: BackfillResult) -> list[str]:
    """What a backfill did, for a person: the totals, then one line per run of live days."""
    loaded_days = len(result.days - (set() if result.replaced else set(result.live)))
    already = result.launches - result.loaded - result.skipped
    lines = [
        f"backfill: {result.lines:,} lines in {len(result.paths)} file(s): "
        f"{result.loaded:,} new launch{'' if result.loaded == 1 else 'es'} on {loaded_days} day(s)"
        + (f", {already:,} already loaded" if already else "")
        + (f", {result.skipped:,} on skipped days" if result.skipped else "")
        + (
            f"; {result.rejected:,} rejected (see launch_errors), the first: {result.first_reason}"
            if result.rejected
            else ""
        )
    ]
    for first, last in _runs(result.live):
        span = f"{first}" if first == last else f"{first}..{last}"
        held = sum(n for d, n in result.live.items() if first <= d <= last)
        if result.replaced:
            lines.append(f"  {span}: {held:,} launches ingested live replaced by the archive's")
        else:
            lines.append(
                f"  {span}: skipped, holds {held:,} launches ingested live; "
                "--replace-live replaces them with the archive's, in one transaction"
            )
    return lines
