"""The public launch archive: ``events-YYYY-MM-DD.jsonl`` per UTC day, ``index.jsonl``,
``index.html`` and ``launches-YYYY-MM.parquet`` per month, beside ``cloud-costs.jsonl``.

A run compares each day's launch count in the warehouse with the published index and
rewrites only the days that changed (late deliveries, backfills), their months' Parquet
files, the badges' daily aggregate for those days, and the index. Launches are only ever
added, so a changed day is a day whose count changed. The warehouse does the heavy work:
BigQuery builds each day's lines and exports the monthly Parquet straight to the bucket;
DuckDB writes both with ``COPY``. Files are a pure function of the stored launches, so a
re-run writes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Literal

from ..clients.public import (
    digest_public,
    publish_staged,
    read_public,
    scratch_file,
    write_public,
)
from ..core.config import Settings
from ..core.errors import ConfigError, Drop
from ..core.files import sha256_of
from ..core.logs import log
from ..core.templates import Markup, render
from ..warehouse import ArrowReading, Exporting, Warehouse, schemas

INDEX = "index.jsonl"
MONTHS = "months.jsonl"
INDEX_HTML = "index.html"
LINES_TYPE = "application/x-ndjson"
PARQUET_TYPE = "application/vnd.apache.parquet"
TEMPLATES = Path(__file__).resolve().parent / "templates"
# Days a BigQuery run asks for at once: each comes back as one string of its whole file.
DAYS_PER_QUERY = 7
# Before the first launch BinderHub ever recorded: "from the beginning".
EPOCH = date(2015, 1, 1)
STAGING = ".staging/"
# The monthly Parquet file's columns: the public launches without event_id and ingested_at.
# A month's Parquet columns mean what the day files' fields mean: the same names and values,
# NULL where a line leaves the field out (a field its schema version does not have). Two
# derived columns follow, which no line carries: the repository and the unresolved ref the
# spec names.
PARQUET_COLUMNS = (
    "timestamp, 'binderhub.jupyter.org/launch' AS schema, schema_version AS version, provider, "
    "spec, IF(schema_version >= 4, resolved_ref, NULL) AS ref, status, "
    "IF(schema_version >= 5, build_token, NULL) AS build_token, "
    "IF(schema_version >= 3, origin, NULL) AS origin, "
    "IF(schema_version >= 6, request_origin, NULL) AS request_origin, "
    "repo, ref AS unresolved_ref"
)
# The columns whose minimum and maximum a month's Parquet keeps per row group (a day): a
# reader skips days by timestamp. Any other column spans nearly all its values every day,
# so its statistics would skip nothing, and they took a quarter of a part's writing time.
STATISTICS = ["timestamp"]
# The order of a day's lines and a month's rows: a total order (event_id is unique), so a
# re-run writes the same bytes.
ORDER = "timestamp, event_id"
# Days whose distinct launches are counted, or whose badge counts are refreshed, at once:
# bounds the memory a local run needs for its distinct event_ids.
DAYS_PER_COUNT = 7


class PublishRequestError(Drop):
    """A publish request (``--start``/``--end``, or the message's) that cannot be run."""

    kind = "invalid_request"


@dataclass(frozen=True)
class DayEntry:
    """One line of ``index.jsonl``: a published day file, its launches, its size, its SHA-256
    and when it was generated (UTC)."""

    name: str
    date: date
    count: int
    size: int
    sha256: str = ""
    generated: str = ""

    def to_json(self) -> str:
        line = {
            "name": self.name,
            "date": self.date.isoformat(),
            "count": self.count,
            "size": self.size,
        }
        if self.sha256:
            line |= {"sha256": self.sha256, "generated": self.generated}
        return json.dumps(line)


@dataclass(frozen=True)
class MonthEntry:
    """One line of ``months.jsonl``: a published month of launches as Parquet."""

    name: str
    month: str
    count: int
    size: int
    sha256: str
    generated: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "month": self.month,
                "count": self.count,
                "size": self.size,
                "sha256": self.sha256,
                "generated": self.generated,
            }
        )


@dataclass
class PublishResult:
    first: date
    last: date
    written: list[date] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    unchanged: int = 0
    index: str = ""

    def summary(self) -> str:
        days = ", ".join(d.isoformat() for d in self.written[:3])
        if len(self.written) > 3:
            days += f" and {len(self.written) - 3} more"
        return (
            f"{self.first}..{self.last}: {len(self.written)} day file(s) rewritten"
            f"{' (' + days + ')' if days else ''}, {self.unchanged} unchanged; "
            f"months {', '.join(self.months) or 'none'}; index at {self.index}"
        )


def day_name(day: date) -> str:
    return f"events-{day.isoformat()}.jsonl"


def month_name(month: str) -> str:
    return f"launches-{month}.parquet"


def requested_days(request: Mapping[str, str], today: date) -> tuple[date, date, bool]:
    """The days to consider and whether to rewrite them all: ``start``/``end`` (dates) force
    a re-publish of that range; without them every complete day, rewriting changed ones."""

    def parse(key: str) -> date | None:
        value = request.get(key)
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise PublishRequestError(f"{key} must be a date YYYY-MM-DD, got {value!r}") from None

    start, end = parse("start"), parse("end")
    yesterday = today - timedelta(days=1)
    end = end or yesterday
    if end > yesterday:
        raise PublishRequestError(
            f"end {end} is not a complete day yet: the archive publishes up to {yesterday}"
        )
    if start and start > end:
        raise PublishRequestError(f"start {start} is after end {end}")
    return start or EPOCH, end, start is not None


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) ranges."""
    ordered = sorted(days)
    for _, group in groupby(enumerate(ordered), key=lambda pair: pair[1].toordinal() - pair[0]):
        run = [day for _, day in group]
        yield run[0], run[-1]


def _chunks(days: Iterable[date], size: int) -> Iterator[tuple[date, date]]:
    for first, last in _runs(days):
        while first <= last:
            end = min(last, first + timedelta(days=size - 1))
            yield first, end
            first = end + timedelta(days=1)


def read_index(settings: Settings) -> dict[date, DayEntry]:
    text = read_public(INDEX, settings)
    entries = {}
    for line in (text or b"").decode("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            day = date.fromisoformat(item["date"])
            entries[day] = DayEntry(
                item["name"],
                day,
                item["count"],
                item.get("size", 0),
                item.get("sha256", ""),
                item.get("generated", ""),
            )
    return entries


def _name(entry: MonthEntry) -> str:
    return entry.name


def read_months(settings: Settings) -> dict[str, MonthEntry]:
    text = read_public(MONTHS, settings)
    found = [json.loads(line) for line in (text or b"").decode("utf-8").splitlines() if line]
    return {item["name"]: MonthEntry(**item) for item in found}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def _month_counts(entries: Sequence[DayEntry]) -> dict[str, int]:
    """Launches per month (``YYYY-MM``) of the published days."""
    counts: dict[str, int] = {}
    for entry in entries:
        month = entry.date.isoformat()[:7]
        counts[month] = counts.get(month, 0) + entry.count
    return counts


def index_html(entries: list[DayEntry], months: list[MonthEntry], settings: Settings) -> bytes:
    """The human index: months (their Parquet files), then days, newest first; with
    schema.org ``Dataset`` JSON-LD (each file a ``DataDownload``) so search engines find it."""
    counts = _month_counts(entries)
    month_rows = [
        {"month": m.month, "name": m.name, "count": m.count, "size": _size(m.size)} for m in months
    ]
    listed = {m.month for m in months}  # months published before months.jsonl was
    month_rows += [
        {"month": m, "name": month_name(m), "count": n, "size": ""}
        for m, n in counts.items()
        if m not in listed
    ]
    month_rows.sort(key=lambda row: str(row["name"]), reverse=True)
    days = [
        {"date": e.date, "name": e.name, "count": e.count, "size": _size(e.size)}
        for e in sorted(entries, key=lambda e: e.date, reverse=True)
    ]
    total = sum(e.count for e in entries)
    document = json.dumps(dataset(entries, months, settings), separators=(",", ":"))
    # Inside <script>: nothing in it may close the element or start markup.
    document = document.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    page = render(
        TEMPLATES,
        "archive-index.html",
        months=month_rows,
        days=days,
        total=total,
        index=INDEX,
        month_index=MONTHS,
        jsonld=Markup(document),
    )
    return page.encode("utf-8")


def dataset(entries: list[DayEntry], months: list[MonthEntry], settings: Settings) -> dict:
    """The archive as a schema.org ``Dataset``."""
    base = (
        f"https://storage.googleapis.com/{settings.public_bucket}/"
        if settings.public_bucket
        else ""
    )

    def download(name: str, kind: str, size: int, sha256: str, generated: str) -> dict:
        item = {
            "@type": "DataDownload",
            "name": name,
            "contentUrl": base + name,
            "encodingFormat": kind,
            "contentSize": f"{size} B",
        }
        if sha256:
            item |= {"sha256": sha256, "dateModified": generated}
        return item

    files = [download(m.name, PARQUET_TYPE, m.size, m.sha256, m.generated) for m in months]
    files += [download(e.name, LINES_TYPE, e.size, e.sha256, e.generated) for e in entries]
    days = sorted(e.date for e in entries)
    document = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": "Binder launch archive",
        "description": (
            "Every launch of the Binder federation's BinderHubs: one JSON Lines file per UTC "
            "day and one Parquet file per month, timestamps to the minute, specs and request "
            "origins stripped of anything private."
        ),
        "license": "https://creativecommons.org/publicdomain/zero/1.0/",
        "isAccessibleForFree": True,
        "distribution": files,
    }
    if days:
        document["temporalCoverage"] = f"{days[0]}/{days[-1]}"
    return document


def _range(first: date, last: date) -> dict[str, date]:
    return {"first": first, "last": last}


def _metadata(day: date, count: int) -> dict[str, str]:
    return {"Events-Date": day.isoformat(), "Events-Count": str(count)}


def _parts(settings: Settings) -> Path:
    """Where a local run keeps each day's launches as Parquet, sorted: the monthly file is
    these days put together, so a late launch re-sorts its day, not its month."""
    return settings.state_dir / "archive-parts"


def _part(settings: Settings, day: date) -> Path:
    return _parts(settings) / f"launches-{day.isoformat()}.parquet"


def _lines(warehouse: Warehouse) -> str:
    """``lines.sql`` as the warehouse names its tables: the launches, each with its line."""
    return schemas.sql_in("archive/lines", warehouse.names).strip()


def _select(warehouse: Warehouse, columns: str) -> str:
    """The launches' ``columns`` (of ``lines.sql``): in the archive's order on DuckDB, which
    keeps the order ``lines.sql`` sorts them in."""
    return f"SELECT {columns}\nFROM (\n{_lines(warehouse)}\n)"


def _in_order(warehouse: Warehouse, columns: str) -> str:
    """The launches' ``columns`` in the archive's order on any warehouse."""
    return f"{_select(warehouse, columns)}\nORDER BY {ORDER}"


def _write_lines(lines, path: Path) -> tuple[int, str]:
    """Write a string column whose values end in a newline: its bytes, as Arrow holds them
    (one buffer per chunk, lines back to back). Returns the bytes written and their SHA-256."""
    import pyarrow as pa

    offset_format: Literal["q", "i"] = (
        "q" if pa.types.is_large_string(lines.type) else "i"
    )  # int64 or int32
    size, digest = 0, hashlib.sha256()
    with open(path, "wb") as f:
        for chunk in lines.chunks:
            _, offsets, data = chunk.buffers()
            ends = memoryview(offsets).cast(offset_format)
            start, end = ends[chunk.offset], ends[chunk.offset + len(chunk)]
            piece = memoryview(data)[start:end]
            digest.update(piece)
            size += f.write(piece)
    return size, digest.hexdigest()


def _write_days_duckdb(
    warehouse: ArrowReading, days: list[date], settings: Settings, with_lines: bool = True
) -> dict[date, DayEntry]:
    """Each day's rows are sorted and given their lines once by DuckDB, then written twice by
    pyarrow: its public lines and its Parquet part (the part only, for a month whose parts
    are missing). The rows come in the archive's order from ``lines.sql`` itself, which
    sorts the launches before building their lines."""
    import pyarrow.parquet as pq

    _parts(settings).mkdir(parents=True, exist_ok=True)
    select = _select(warehouse, f"{PARQUET_COLUMNS}, line")

    scratch = {day: scratch_file(day_name(day), settings) for day in days} if with_lines else {}

    def write(params: Mapping[str, date], rows) -> DayEntry:
        day = params["first"]
        part = rows.drop_columns(["line"])
        pq.write_table(part, _part(settings, day), compression="zstd", write_statistics=STATISTICS)
        size, sha256 = _write_lines(rows["line"], scratch[day]) if with_lines else (0, "")
        return DayEntry(day_name(day), day, rows.num_rows, size, sha256, _stamp())

    written = warehouse.arrow_each(select, [_range(day, day) for day in days], write)
    if not with_lines:
        return {}
    for entry in written:
        metadata = _metadata(entry.date, entry.count)
        write_public(entry.name, scratch[entry.date], LINES_TYPE, settings, metadata)
    return {entry.date: entry for entry in written}


def _write_days_bigquery(
    warehouse: Warehouse, days: list[date], settings: Settings
) -> dict[date, DayEntry]:
    """BigQuery builds each day's whole file as one string; this process only uploads it."""
    query = (
        "SELECT day, COUNT(*) AS events,\n"
        f"  STRING_AGG(line, '' ORDER BY {ORDER}) AS content\n"
        f"FROM (\n{_lines(warehouse)}\n)\nGROUP BY day"
    )
    wanted, entries = set(days), {}
    for first, last in _chunks(days, DAYS_PER_QUERY):
        for row in warehouse.query(query, _range(first, last)):
            day, count = row["day"], row["events"]
            if day in wanted:
                content = row["content"].encode("utf-8")
                write_public(day_name(day), content, LINES_TYPE, settings, _metadata(day, count))
                sha256 = hashlib.sha256(content).hexdigest()
                entries[day] = DayEntry(day_name(day), day, count, len(content), sha256, _stamp())
    return entries


def _write_month(
    warehouse: Exporting | ArrowReading, month: str, days: list[date], settings: Settings
) -> list[tuple[str, int, str]]:
    """The month's Parquet file: exported by BigQuery, or put together from the days' parts
    locally (writing the parts a run has not written yet). Returns each file published (a
    large export comes in several) with its size and SHA-256."""
    name = month_name(month)
    if isinstance(warehouse, Exporting):
        first = date.fromisoformat(f"{month}-01")
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        prefix = f"{STAGING}{name}/"
        uri = f"gs://{settings.public_bucket}/{prefix}part-*.parquet"
        warehouse.export(_in_order(warehouse, PARQUET_COLUMNS), _range(first, last), uri, "PARQUET")
        published = publish_staged(prefix, name, PARQUET_TYPE, settings)
        names = [location.rsplit("/", 1)[1] for location in published]
        return [(n, *digest_public(n, settings)) for n in names]
    from ..warehouse import parquet

    missing = [day for day in days if not _part(settings, day).exists()]
    if missing:
        _write_days_duckdb(warehouse, missing, settings, with_lines=False)
    path = scratch_file(name, settings)
    parquet.join([_part(settings, day) for day in sorted(days)], path)
    size, sha256 = sha256_of(path)
    write_public(name, path, PARQUET_TYPE, settings)
    return [(name, size, sha256)]


class _Timer:
    """How long each phase of a run took, for the log."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.laps: list[str] = []

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.laps.append(f"{phase} {now - self.start:.2f} s")
        self.start = now

    def __str__(self) -> str:
        return ", ".join(self.laps)


def _rows(warehouse: Warehouse, first: date, last: date) -> dict[date, int]:
    """Rows per day, duplicates included: the cheap first look at what changed."""
    rows = warehouse.query(schemas.sql_in("archive/day_rows", warehouse.names), _range(first, last))
    return {row["day"]: row["events"] for row in rows}


def _lost(
    rows: Mapping[date, int], index: Mapping[date, DayEntry], settings: Settings
) -> set[date]:
    """Published days whose local file is missing, or not the size the index gives it.

    The index is written to disk (fsync) after the day files, which are not: waiting for
    3 GB of them would take seconds of a run. A crash soon after a run can so leave an index
    that lists files the disk never got (ext4 leaves them empty or short): such days are
    written again. A bucket's objects are durable once uploaded, so they are not checked.
    """
    if settings.public_bucket:
        return set()
    lost = set()
    for day in rows:
        if (entry := index.get(day)) is None:
            continue
        try:
            size = (settings.public_dir / entry.name).stat().st_size
        except FileNotFoundError:
            size = None
        if size != entry.size:
            lost.add(day)
    if lost:
        names = [day_name(day) for day in sorted(lost)]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        log.warning("publish: day files not as index.jsonl lists them, written again: %s", shown)
    return lost


def _changed(
    warehouse: Warehouse, rows: Mapping[date, int], index: Mapping[date, DayEntry], lost: set[date]
) -> list[date]:
    """New days, lost days (``_lost``), and the published days whose launches changed. A
    published day whose rows moved is counted exactly first (distinct launches): a
    duplicate BigQuery stored is not a change."""
    moved = sorted(day for day, n in rows.items() if day not in index or index[day].count != n)
    recount = [day for day in moved if day in index]
    exact: dict[date, int] = {}
    for chunk_first, chunk_last in _chunks(recount, DAYS_PER_COUNT):
        found = warehouse.query(
            schemas.sql_in("archive/day_counts", warehouse.names), _range(chunk_first, chunk_last)
        )
        exact.update((row["day"], row["events"]) for row in found)
    changed = {day for day in moved if day not in index or exact[day] != index[day].count}
    return sorted(changed | lost)


def publish(
    warehouse: Warehouse, settings: Settings, request: Mapping[str, str], today: date
) -> PublishResult:
    """Publish every day in the request whose launches changed (all of them when the request
    names a range), then the months, badge aggregate and index those days touch."""
    first, last, rewrite = requested_days(request, today)
    if not isinstance(warehouse, Exporting | ArrowReading):
        raise ConfigError(f"{warehouse.url} can neither export files nor return Arrow tables")
    if isinstance(warehouse, Exporting) and not settings.public_bucket:
        raise ConfigError("publishing from BigQuery needs BINDEROPS_PUBLIC_BUCKET")
    timer = _Timer()
    with warehouse.session():
        index = read_index(settings)
        rows = _rows(warehouse, first, last)
        if rewrite:  # a range asks for every one of its days
            changed = sorted(rows)
        else:
            changed = _changed(warehouse, rows, index, _lost(rows, index, settings))
        timer.lap("counts")
        # The badges' rows first: their commits wait for the disk, which is idle now and
        # busy for seconds once the day files are written.
        if changed:
            ranges = list(_chunks(changed, DAYS_PER_COUNT))
            warehouse.refresh(
                "repo_launches_daily",
                "day",
                ranges,
                schemas.sql_in("archive/repo_days", warehouse.names),
            )
        timer.lap("badge counts")
        written: dict[date, DayEntry] = {}
        if not changed:
            pass
        elif isinstance(warehouse, Exporting):
            written = _write_days_bigquery(warehouse, changed, settings)
        else:
            written = _write_days_duckdb(warehouse, changed, settings)
        timer.lap("day files")
        months = sorted({day.isoformat()[:7] for day in changed})
        known = set(index) | set(rows)  # a range's run counts only its own days
        month_files = {}
        for month in months:
            days = [day for day in known if day.isoformat()[:7] == month]
            month_files[month] = _write_month(warehouse, month, days, settings)
        timer.lap("months")
    for day, entry in written.items():  # the same bytes as before keep their time
        old = index.get(day)
        if old is not None and old.sha256 == entry.sha256:
            written[day] = replace(entry, generated=old.generated)
    index.update(written)
    for day, entry in index.items():  # published before files carried their SHA-256
        if not entry.sha256:
            size, sha256 = digest_public(entry.name, settings)
            index[day] = DayEntry(entry.name, day, entry.count, size, sha256, _stamp())
    entries = [index[day] for day in sorted(index)]
    counts = _month_counts(entries)
    month_index = read_months(settings)
    if month_files:
        for month, files in month_files.items():
            before = {n: e for n, e in month_index.items() if e.month == month}
            for name in before:
                del month_index[name]
            for file_name, size, sha256 in files:
                kept = before.get(file_name)
                same = kept is not None and kept.sha256 == sha256
                stamp = kept.generated if kept is not None and same else _stamp()
                month_index[file_name] = MonthEntry(
                    file_name, month, counts.get(month, 0), size, sha256, stamp
                )
        lines = "".join(e.to_json() + "\n" for e in sorted(month_index.values(), key=_name))
        write_public(MONTHS, lines.encode(), LINES_TYPE, settings)
    month_entries = sorted(month_index.values(), key=_name)
    location = write_public(
        INDEX, "".join(e.to_json() + "\n" for e in entries).encode(), LINES_TYPE, settings
    )
    html = index_html(entries, month_entries, settings)
    write_public(INDEX_HTML, html, "text/html; charset=utf-8", settings)
    timer.lap("index")
    log.info("publish: %s", timer)
    shown_first = min(rows) if rows and not rewrite else first
    unchanged = len(rows) - len(changed)
    return PublishResult(shown_first, last, changed, months, unchanged, location)
