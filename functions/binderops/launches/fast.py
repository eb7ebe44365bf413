"""Backfill on DuckDB: the files read by DuckDB's own JSON reader, each line decided by the
SQL of ``native``, the few it leaves undecided by the Python path, and every row's id given
in SQL, in one transaction with any ``--replace-live`` deletion."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..core.logs import log
from ..warehouse.duckdb import DuckDBWarehouse, arrow_rows, qualified
from ..warehouse.schemas import Column, table
from . import native
from .backfill import (
    BATCH_ROWS,
    PREFIX,
    ROW_COLUMNS,
    LineReader,
    Loader,
    batches,
    load_python,
    python_rows,
)

# DuckDB spills what does not fit to disk: a backfill of any size stays in about this much.
MEMORY_LIMIT = "800MB"


def load_natively(
    files: Sequence[Path],
    warehouse: DuckDBWarehouse,
    loader: Loader,
    ingested_at: datetime,
    default_origin: str,
    progress: Callable[[int], None],
) -> None:
    pending = list(batches(files))
    with warehouse.session() as con:
        [(limit,)] = con.execute("SELECT current_setting('memory_limit')").fetchall()
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    try:
        while pending:
            batch = pending.pop(0)
            if not _read(warehouse, batch):
                if len(batch) > 1:  # find the file DuckDB cannot read: one at a time
                    pending[:0] = [[path] for path in batch]
                    continue
                _through_python(batch[0], loader, ingested_at, default_origin, progress)
                continue
            _decide(warehouse, loader, ingested_at, default_origin)
            progress(sum(path.stat().st_size for path in batch))
    finally:
        with warehouse.session() as con:
            con.execute(f"SET memory_limit = '{limit}'")


def _read(warehouse: DuckDBWarehouse, batch: list[Path]) -> bool:
    """Read ``batch`` into ``_backfill_json``; False when DuckDB cannot read a file of it as
    one JSON object per line (the Python path then reads it, line by line).

    The lines are stored as read before the deciding SQL runs: the stored table's ``rowid``
    is their order, which the Python path needs to find the lines the SQL leaves. Read and
    decided in one pass, nothing but ``row_number() OVER ()`` keeps that order (the deciding
    SQL's ``IN`` lists are hash joins), and it reads on one thread: 1.2 s more per million
    lines than the copy costs."""
    import duckdb

    with warehouse.session() as con:
        try:
            con.execute(native.read_sql(), {"files": [str(p) for p in batch]})
        except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as e:
            log.info("backfill: DuckDB's reader stopped (%s)", str(e).splitlines()[0][:300])
            return False
    return True


def _decide(
    warehouse: DuckDBWarehouse,
    loader: Loader,
    ingested_at: datetime,
    default_origin: str,
) -> None:
    """The batch's lines decided, those the SQL leaves through the Python path, and the
    rows into ``launches``, live days skipped or replaced, every row given its id."""
    result = loader.result
    unread: list[Path] = []
    with warehouse.session() as con:
        con.execute(
            native.decide_sql(), {"ingested_at": ingested_at, "default_origin": default_origin}
        )
        undecided = con.execute(native.undecided_sql()).fetchall()
        decided: list[tuple] = []
        for file, ordinals in undecided:
            found = python_rows(Path(file), ordinals, ingested_at, default_origin)
            if found is None:  # the two readers numbered its lines differently
                unread.append(Path(file))
                con.execute("DELETE FROM _backfill_rows WHERE file = ?", [file])
                continue
            result.undecided += len(ordinals)
            result.lines += len(found.errors)
            for number, error in found.errors:
                loader.add(error, Path(file), number)
            decided += [(file, number, True, *row[1:]) for number, row in found.rows]
        if undecided:
            con.execute("DELETE FROM _backfill_rows WHERE NOT decided")
            _insert_rows(con, decided)
        # The batch's launches by day, and how many files hold each day: one scan.
        by_day = {
            day: (launches, files)
            for day, launches, files in con.execute(
                "SELECT CAST(timestamp AS DATE), count(*), count(DISTINCT file)"
                " FROM _backfill_rows GROUP BY ALL"
            ).fetchall()
        }
        result.lines += sum(launches for launches, _ in by_day.values())
        live, skip = loader.check_days({day: n for day, (n, _) in by_day.items()})
        # Only a day two files hold can give one id twice (copies of a file in one batch).
        shared = any(files > 1 for _, files in by_day.values())
        target = qualified(table("launches"))
        con.execute("BEGIN TRANSACTION")
        try:
            if live and loader.replace_live:
                warehouse.query(*loader.delete_live(sorted(live)))
            [(before,)] = con.execute(f"SELECT count(*) FROM {target}").fetchall()
            bounds: dict[str, Any] = {"first": min(by_day, default=None)}
            bounds["last"] = max(by_day) + timedelta(days=1) if by_day else None
            if skip:
                bounds["skip"] = skip
            con.execute(_insert_sql(target, bool(skip), shared), bounds)
            [(after,)] = con.execute(f"SELECT count(*) FROM {target}").fetchall()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        result.loaded += after - before
        con.execute("DROP TABLE IF EXISTS _backfill_json")
        con.execute("DROP TABLE IF EXISTS _backfill_rows")
    loader.flush()  # the error rows
    for path in unread:
        _through_python(path, loader, ingested_at, default_origin, lambda n: None)


def _through_python(
    path: Path,
    loader: Loader,
    ingested_at: datetime,
    default_origin: str,
    progress: Callable[[int], None],
) -> None:
    """A whole file the fast path cannot take, through the Python path."""
    log.info("backfill: %s goes through the Python path", path.name)
    load_python(path, loader, LineReader(ingested_at, default_origin), progress, BATCH_ROWS)
    loader.flush()


def _insert_rows(con: Any, rows: list[tuple]) -> None:
    """The Python path's rows into ``_backfill_rows``: where each line is, then its row."""
    if not rows:
        return
    where = [
        Column("file", "STRING", "REQUIRED", ""),
        Column("ordinal", "INT64", "REQUIRED", ""),
        Column("decided", "BOOL", "REQUIRED", ""),
    ]
    columns = [*where, *table("launches").columns[1:]]  # the id is given in SQL
    con.register("_backfill_python", arrow_rows(columns, rows))
    try:
        names = ", ".join(c.name for c in columns)
        con.execute(f"INSERT INTO _backfill_rows ({names}) SELECT * FROM _backfill_python")
    finally:
        con.unregister("_backfill_python")


def _insert_sql(target: str, skipping: bool, shared: bool) -> str:
    """Every decided row into ``target`` with its id: its day, content key, and occurrence
    among the rows of its file with that key. Rows already there (on the batch's days,
    ``$first`` up to ``$last``) are left as they are. A plain insert of the rest is much
    faster than INSERT OR IGNORE. Two copies of a file in one batch give the same ids: when
    two files hold one day (``shared``), a DISTINCT ON keeps one of each (it costs about a
    second per million rows, so only then)."""
    where = "WHERE NOT list_contains($skip, CAST(timestamp AS DATE))" if skipping else ""
    distinct = "DISTINCT ON (event_id) " if shared else ""
    return f"""INSERT INTO {target}
SELECT {distinct}* FROM (
  SELECT '{PREFIX}' || strftime(timestamp, '%Y-%m-%d') || ':' || key || ':'
      -- Rows of one file and key are the same launch: their order does not matter.
      || CAST(row_number() OVER (PARTITION BY file, key) - 1 AS VARCHAR) AS event_id,
    {", ".join(ROW_COLUMNS)}
  FROM (SELECT *, {native.key_sql()} AS key FROM _backfill_rows {where})
) AS new
WHERE NOT EXISTS (
  SELECT 1 FROM {target} AS old
  WHERE old.timestamp >= $first AND old.timestamp < $last AND old.event_id = new.event_id
)"""
