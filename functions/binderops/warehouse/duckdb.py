"""The embedded warehouse: one DuckDB file, raw tables in schema ``raw``, public views in ``main``.

DuckDB lets one process at a time open the file, so an idle connection is released
quickly: the local function and the ``binderops`` CLI take turns on one file.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import schemas, sql
from .base import WarehouseUnavailable

DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "TIMESTAMP": "TIMESTAMPTZ",
    "INT64": "BIGINT",
    "INTEGER": "BIGINT",
    "BOOL": "BOOLEAN",
    "BOOLEAN": "BOOLEAN",
    "FLOAT64": "DOUBLE",
    "FLOAT": "DOUBLE",
    "NUMERIC": "DECIMAL(38, 9)",
    "DATE": "DATE",
}
DATASETS = {"raw": "raw", "public": "main"}


def column_type(column: schemas.Column) -> str:
    """DuckDB's type for a BigQuery column: RECORD is a STRUCT, REPEATED a LIST."""
    if column.type in ("RECORD", "STRUCT"):
        base = "STRUCT(" + ", ".join(f'"{f.name}" {column_type(f)}' for f in column.fields) + ")"
    else:
        base = DUCKDB_TYPES[column.type]
    return f"{base}[]" if column.mode == "REPEATED" else base


def column_definitions(columns: Sequence[schemas.Column]) -> str:
    return ", ".join(
        f'"{c.name}" {column_type(c)}{" NOT NULL" if c.mode == "REQUIRED" else ""}' for c in columns
    )


# How long to wait for another process to release the file before calling it transient.
LOCK_WAIT_SECONDS = 10.0
# How long an unused connection stays open before the file is released to other processes.
IDLE_SECONDS = 0.25
# Under steady load, hold the file at most this long, then leave it free for a moment.
MAX_HOLD_SECONDS = 1.0
YIELD_SECONDS = 0.15
# COPY statements run at once by copy_many: one more than two cores keeps both busy.
COPY_THREADS = 3
COPY_OPTIONS = {
    # One column of text per line, unquoted: it is JSON already.
    "lines": "FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f'",
    "parquet": "FORMAT parquet, COMPRESSION zstd",
}


@dataclass(frozen=True)
class CopyOutput:
    columns: str  # the select list written, over the query's columns
    path: Path
    kind: str  # a key of COPY_OPTIONS


@dataclass(frozen=True)
class CopyJob:
    params: Mapping[str, Any]
    outputs: tuple[CopyOutput, ...]


class DuckDBWarehouse:
    def __init__(self, path: str, lock_wait: float = LOCK_WAIT_SECONDS) -> None:
        self.path = Path(path).expanduser()
        self.lock_wait = lock_wait
        self.url = f"duckdb://{self.path.resolve()}"
        self.names = DATASETS
        self._lock = threading.RLock()
        self._connection = None
        self._depth = 0
        self._last_used = 0.0
        self._timer: threading.Timer | None = None
        self._opened_at = 0.0
        self._yield_until = 0.0
        self._ready = False

    def _connect(self):
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait
        while True:
            try:
                con = duckdb.connect(str(self.path))
                break
            except duckdb.IOException as e:
                if "lock" not in str(e).lower() or time.monotonic() > deadline:
                    raise WarehouseUnavailable(f"cannot open {self.path}: {e}") from e
                time.sleep(0.05)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")  # no bar on a command's stderr
        if not self._ready:
            atexit.register(self.close)  # checkpoint and release the file at exit
            self._create(con)
            self._ready = True
        return con

    @contextmanager
    def session(self) -> Iterator[Any]:
        """The open connection, opened if needed, for a run of operations.

        Opening costs about as much as a dozen inserts, so the connection stays open while
        work keeps coming and is released once idle for ``IDLE_SECONDS``, or after
        ``MAX_HOLD_SECONDS`` of steady work: another process (the CLI beside the local
        function) can then take its turn on the file.
        """
        with self._lock:
            if self._connection is None:
                time.sleep(max(0.0, self._yield_until - time.monotonic()))
                self._connection = self._connect()
                self._opened_at = time.monotonic()
            self._depth += 1
            try:
                yield self._connection
            finally:
                self._depth -= 1
                self._last_used = time.monotonic()
                if self._depth == 0 and self._last_used - self._opened_at > MAX_HOLD_SECONDS:
                    # Busy for a while: step aside briefly so a waiting process gets a turn.
                    self._connection.close()
                    self._connection = None
                    self._yield_until = self._last_used + YIELD_SECONDS
                elif self._timer is None:
                    self._release_later(IDLE_SECONDS)

    def _release_later(self, delay: float) -> None:
        self._timer = threading.Timer(delay, self._release_if_idle)
        self._timer.daemon = True
        self._timer.start()

    def _release_if_idle(self) -> None:
        with self._lock:
            self._timer = None
            if self._connection is None or self._depth:
                return
            idle = time.monotonic() - self._last_used
            if idle < IDLE_SECONDS:
                self._release_later(IDLE_SECONDS - idle)
                return
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Release the file now (the CLI calls this before it exits)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _create(self, con) -> None:
        tables, views = schemas.catalog()
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for table in tables.values():
            key = f', PRIMARY KEY ("{table.key}")' if table.key else ""
            con.execute(
                f'CREATE TABLE IF NOT EXISTS {DATASETS[table.dataset]}."{table.name}" '
                f"({column_definitions(table.columns)}{key})"
            )
        for view in views.values():
            body = sql.to_duckdb(view.render(DATASETS))
            con.execute(f'CREATE OR REPLACE VIEW {DATASETS[view.dataset]}."{view.name}" AS {body}')

    def setup(self) -> None:
        with self.session():
            pass

    def insert(self, table: str, rows: Sequence[tuple]) -> None:
        self.load(table, rows)

    def load(self, table: str, rows: Sequence[tuple]) -> int:
        if not rows:
            return 0
        spec = schemas.table(table)
        target = f'{DATASETS[spec.dataset]}."{table}"'
        with self.session() as con:
            before = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
            if len(rows) < 64:
                marks = ", ".join("?" * len(spec.columns))
                verb = "INSERT OR IGNORE" if spec.key else "INSERT"  # a keyless table appends
                con.executemany(f"{verb} INTO {target} VALUES ({marks})", list(rows))
            else:
                con.register("_batch", _arrow_batch(spec, rows))
                try:
                    self._insert_new(con, target)
                finally:
                    con.unregister("_batch")
            return con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0] - before

    @staticmethod
    def _insert_new(con, target: str) -> None:
        """Insert ``_batch``, skipping keys already stored.

        A plain insert is twice as fast as INSERT OR IGNORE and is all-or-nothing, so try
        it first and fall back only when the batch repeats stored keys (a re-run).
        """
        import duckdb

        try:
            con.execute(f"INSERT INTO {target} SELECT * FROM _batch")
        except duckdb.ConstraintException:
            con.execute(f"INSERT OR IGNORE INTO {target} SELECT * FROM _batch")

    def query(self, text: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        import duckdb

        translated = sql.to_duckdb(text)
        with self.session() as con:
            try:
                cursor = con.execute(translated, dict(params) if params else None)
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row)) for row in cursor.fetchall()]
            except (
                duckdb.ParserException,
                duckdb.CatalogException,
                duckdb.BinderException,
                duckdb.ConversionException,
            ) as e:
                raise sql.QueryError(f"{e} (as DuckDB SQL: {translated})") from None

    def replace(
        self, table: str, column: str, first: Any, last: Any, rows: Sequence[tuple]
    ) -> None:
        spec = schemas.table(table)
        target = f'{DATASETS[spec.dataset]}."{table}"'
        with self.session() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(f'DELETE FROM {target} WHERE "{column}" BETWEEN ? AND ?', [first, last])
                if rows:
                    con.register("_batch", _arrow_batch(spec, rows))
                    try:
                        con.execute(f"INSERT INTO {target} SELECT * FROM _batch")
                    finally:
                        con.unregister("_batch")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def refresh(
        self, table: str, column: str, ranges: Sequence[tuple[Any, Any]], select: str
    ) -> None:
        spec = schemas.table(table)
        target = f'{DATASETS[spec.dataset]}."{table}"'
        columns = ", ".join(f'"{name}"' for name in spec.column_names)
        translated = sql.to_duckdb(select)
        with self.session() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for first, last in ranges:
                    bounds = {"first": first, "last": last}
                    con.execute(
                        f'DELETE FROM {target} WHERE "{column}" BETWEEN $first AND $last', bounds
                    )
                    con.execute(
                        f"INSERT INTO {target} ({columns}) SELECT {columns} FROM ({translated})",
                        bounds,
                    )
                if spec.clustering:
                    self._keep_clustered(con, target, spec)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    @staticmethod
    def _keep_clustered(con, target: str, spec: schemas.Table) -> None:
        """Rewrite the table in the order of its clustering columns, as BigQuery clusters it.

        DuckDB skips blocks by their min/max, so a lookup of one repository in a sorted
        table reads a block or two (2 ms) where an unsorted one scans it all (17 ms at
        1.4 M rows); the rewrite costs about a second per million rows, once per run.
        """
        order = ", ".join(f'"{name}"' for name in spec.clustering)
        con.execute(f"CREATE TEMP TABLE _clustered AS SELECT * FROM {target} ORDER BY {order}")
        con.execute(f"DELETE FROM {target}")
        con.execute(f"INSERT INTO {target} SELECT * FROM _clustered")
        con.execute("DROP TABLE _clustered")

    def copy_many(self, select: str, jobs: Sequence[CopyJob]) -> None:
        """Run the BigQuery SQL ``select`` once per job and write its rows to each of the
        job's outputs with DuckDB's COPY.

        With several outputs the rows are computed (and sorted) once, into a temporary
        table read back in the same order. A job is too small to keep every core busy, so
        jobs run on a few cursors at once.
        """
        from concurrent.futures import ThreadPoolExecutor

        translated = sql.to_duckdb(select)

        def copy(cursor, source: str, output: CopyOutput) -> None:
            path = str(output.path).replace("'", "''")
            options = COPY_OPTIONS[output.kind]
            cursor.execute(f"COPY (SELECT {output.columns} FROM {source}) TO '{path}' ({options})")

        with self.session() as con:

            def run(numbered: tuple[int, CopyJob]) -> None:
                number, job = numbered
                with con.cursor() as cursor:
                    staged = f"_copy_{number}"
                    cursor.execute(f"CREATE TEMP TABLE {staged} AS {translated}", dict(job.params))
                    try:
                        for output in job.outputs:
                            copy(cursor, staged, output)
                    finally:
                        cursor.execute(f"DROP TABLE {staged}")

            with ThreadPoolExecutor(COPY_THREADS) as pool:
                list(pool.map(run, enumerate(jobs)))

    def concatenate(self, parts: Sequence[Path], path: Path) -> None:
        """One zstd Parquet file holding the rows of ``parts`` in order (DuckDB keeps the
        order it reads them in), with no sort: the parts are sorted already."""
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
        quoted = str(path).replace("'", "''")
        with self.session() as con:
            con.execute(
                f"COPY (SELECT * FROM read_parquet([{files}])) TO '{quoted}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )


def _arrow_batch(spec: schemas.Table, rows: Sequence[tuple]):
    """Rows as an Arrow table DuckDB scans in bulk: tuples convert in C as one struct array."""
    import pyarrow as pa

    types = {
        "STRING": pa.string(),
        "TIMESTAMP": pa.timestamp("us", tz="UTC"),
        "INT64": pa.int64(),
        "BOOL": pa.bool_(),
        "DATE": pa.date32(),
        "FLOAT64": pa.float64(),
    }
    row_type = pa.struct([(c.name, types[c.type]) for c in spec.columns])
    return pa.Table.from_struct_array(pa.array(rows, type=row_type))
