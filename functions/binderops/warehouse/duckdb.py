"""The embedded warehouse: one DuckDB file, raw tables in schema ``raw``, public views in ``main``.

DuckDB lets one process at a time open the file, so an idle connection is released
quickly: the local function and the ``binderops`` CLI take turns on one file.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..core.files import write_atomically
from . import schemas, sql
from .base import WarehouseUnavailable

if TYPE_CHECKING:
    import duckdb

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
T = TypeVar("T")


@cache
def constraints() -> sql.Constraints:
    """What DuckDB enforces: each keyed table is created with its PRIMARY KEY, each REQUIRED
    column NOT NULL."""
    tables = schemas.catalog()[0].values()
    return sql.Constraints(
        unique=frozenset((DATASETS[t.dataset], t.name, t.key) for t in tables if t.key),
        required=frozenset(
            (DATASETS[t.dataset], t.name, c.name)
            for t in tables
            for c in t.columns
            if c.mode == "REQUIRED"
        ),
    )


def translate(bigquery_sql: str) -> str:
    return sql.to_duckdb(bigquery_sql, constraints())


def qualified(table: schemas.Table | schemas.View) -> str:
    """A table's or view's name in DuckDB SQL: its schema (its dataset's) and quoted name."""
    return f'{DATASETS[table.dataset]}."{table.name}"'


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
# Under steady load, hold the file at least this long, then leave it free for a moment if
# another process asked for it.
MAX_HOLD_SECONDS = 1.0
YIELD_SECONDS = 0.15
# Queries arrow_each runs at once: one sorting while another's result is written out.
# More only adds memory on two cores (three: as fast, 150 MB more).
QUERY_THREADS = 2
# Rows per Arrow batch a query hands over. DuckDB grows each batch's buffers by
# reallocation: a day of archive lines in one batch (50 MB) is copied as it grows and
# faulted in fresh from the kernel every time; batches of a few MB reuse the allocator's
# memory. Measured on a day of 166,000 launches: 0.21 s in one batch, 0.14 s in 8,192-row
# batches. pyarrow writes the same Parquet bytes from either (checked on 5 such days).
ARROW_BATCH_ROWS = 8192
# Translations kept beside the warehouse; the binderops CLI's ad hoc queries add to them.
MAX_TRANSLATIONS = 500


@cache
def _translator() -> str:
    """What a translation depends on besides the SQL: sqlglot's release, the translator's
    own source and the constraints it relies on. Read from files, not imported: importing
    sqlglot is what the saved translations spare."""
    from importlib.util import find_spec

    digest = hashlib.sha256()
    spec = find_spec("sqlglot")
    package = Path(spec.origin).parent if spec and spec.origin else None
    for source in (package / "_version.py", package / "__init__.py") if package else ():
        if source.exists():
            digest.update(source.read_bytes())
    digest.update(Path(sql.__file__).read_bytes())
    rules = constraints()
    digest.update(repr((sorted(rules.unique), sorted(rules.required))).encode())
    return digest.hexdigest()


def _digest(bigquery_sql: str) -> str:
    return hashlib.sha256(bigquery_sql.encode()).hexdigest()


class Translations:
    """DuckDB SQL translated from BigQuery SQL, saved in a file beside the warehouse
    (``NAME.sql.json``): a process whose queries were all translated before never imports
    sqlglot, which takes 0.2 s, a tenth of a late launch's publish run. A process that
    has to import it translates every SQL file of ``schemas/`` too (0.2 s more), so that
    later ones find the package's queries there before they first run them. The file is
    dropped when what a translation depends on changes (``_translator``); it is a cache,
    safe to delete, and not synced to disk."""

    def __init__(self, path: Path, limit: int = MAX_TRANSLATIONS) -> None:
        self.path = path
        self.limit = limit
        self._lock = threading.Lock()
        self._saved: dict[str, str] = {}
        self._loaded = False
        self._warmed = False

    def __call__(self, bigquery_sql: str) -> str:
        digest = _digest(bigquery_sql)
        with self._lock:
            if not self._loaded:
                self._saved, self._loaded = self._load(), True
            text = self._saved.get(digest)
            if text is None:
                text = self._saved[digest] = translate(bigquery_sql)
                self._warm()
                while len(self._saved) > self.limit:  # ad hoc queries: the oldest go
                    del self._saved[next(iter(self._saved))]
                content = json.dumps({"translator": _translator(), "sql": self._saved})
                write_atomically(self.path, content.encode(), durable=False)
            return text

    def _warm(self) -> None:
        """Add the package's SQL files, as the warehouse renders them, once per process."""
        if self._warmed:
            return
        self._warmed = True
        for text in schemas.sql_files(DATASETS):
            digest = _digest(text)
            if digest not in self._saved:
                try:
                    self._saved[digest] = translate(text)
                except sql.QueryError:
                    continue  # not a query on its own; its caller's SQL is saved when run

    def _load(self) -> dict[str, str]:
        try:
            saved = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(saved, dict) or saved.get("translator") != _translator():
            return {}
        found = saved.get("sql")
        return dict(found) if isinstance(found, dict) else {}


# A read-only connection: DuckDB refuses every write and reads no file but the warehouse (no
# read_csv('/etc/passwd'), COPY, ATTACH, INSTALL or LOAD); its settings are then locked, so
# no statement may change that.
READ_ONLY = {"enable_external_access": False}


class DuckDBWarehouse:
    def __init__(
        self, path: str, lock_wait: float = LOCK_WAIT_SECONDS, read_only: bool = False
    ) -> None:
        self.path = Path(path).expanduser()
        self.lock_wait = lock_wait
        self.read_only = read_only
        self.url = f"duckdb://{self.path.resolve()}"
        self.names = DATASETS
        self._lock = threading.RLock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._depth = 0
        self._last_used = 0.0
        self._timer: threading.Timer | None = None
        self._opened_at = 0.0
        self._opened_wall = 0.0
        self._waiting = self.path.with_name(self.path.name + ".waiting")
        self._yield_until = 0.0
        self._ready = False
        self.translate = Translations(self.path.with_name(self.path.name + ".sql.json"))

    def _connect(self):
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait
        config = READ_ONLY if self.read_only else {}
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=self.read_only, config=config)
                break
            except duckdb.IOException as e:
                if "lock" not in str(e).lower() or time.monotonic() > deadline:
                    raise WarehouseUnavailable(f"cannot open {self.path}: {e}") from e
                self._ask_for_turn()
                time.sleep(0.05)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")  # no bar on a command's stderr
        if self.read_only:
            con.execute("SET lock_configuration = true")
            return con  # what it reads exists: a read-only warehouse is never created
        if not self._ready:
            atexit.register(self.close)  # checkpoint and release the file at exit
            self._create(con)
            self._ready = True
        return con

    @contextmanager
    def session(self) -> Iterator[Any]:
        """The open connection, opened if needed, for a run of operations.

        Opening costs about as much as a dozen inserts, and a fresh connection reads its
        tables' blocks from the file again, so the connection stays open while work keeps
        coming. It is released once idle for ``IDLE_SECONDS``, or, under steady work, after
        ``MAX_HOLD_SECONDS`` if another process (the CLI beside the local function) has
        asked for the file since: that process then takes its turn.
        """
        with self._lock:
            if self._connection is None:
                time.sleep(max(0.0, self._yield_until - time.monotonic()))
                self._connection = self._connect()
                self._opened_at = time.monotonic()
                self._opened_wall = time.time()
            self._depth += 1
            try:
                yield self._connection
            finally:
                self._depth -= 1
                self._last_used = time.monotonic()
                if (
                    self._depth == 0
                    and self._last_used - self._opened_at > MAX_HOLD_SECONDS
                    and self._turn_asked()
                ):
                    # Busy for a while: step aside briefly so the waiting process gets a turn.
                    self._connection.close()
                    self._connection = None
                    self._yield_until = self._last_used + YIELD_SECONDS
                elif self._timer is None:
                    self._release_later(IDLE_SECONDS)

    def _ask_for_turn(self) -> None:
        """Tell the process holding the file that this one waits for it: the file beside it,
        ``NAME.waiting``, is touched. DuckDB's lock says nothing to its holder."""
        try:
            self._waiting.touch()
        except OSError:
            pass  # the holder releases the file when idle anyway

    def _turn_asked(self) -> bool:
        """Whether another process asked for the file since this one opened it."""
        try:
            return self._waiting.stat().st_mtime >= self._opened_wall
        except OSError:
            return False

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
        """The catalog's tables and views, in one transaction: one write to the disk, not
        one per view (under other writes, each costs up to tens of milliseconds)."""
        tables, views = schemas.catalog()
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS raw")
            for table in tables.values():
                key = f', PRIMARY KEY ("{table.key}")' if table.key else ""
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS {qualified(table)} "
                    f"({column_definitions(table.columns)}{key})"
                )
            # Columns a newer schema appends (always NULLABLE) are added to older tables.
            found = set(
                con.execute(
                    "SELECT table_schema, table_name, column_name FROM information_schema.columns"
                ).fetchall()
            )
            for table in tables.values():
                for column in table.columns:
                    if (DATASETS[table.dataset], table.name, column.name) not in found:
                        con.execute(
                            f"ALTER TABLE {qualified(table)} ADD COLUMN "
                            f'"{column.name}" {column_type(column)}'
                        )
            # Warehouses made when badges looked their repository up have an index on it,
            # which every refresh would keep up for nothing.
            con.execute('DROP INDEX IF EXISTS main."repo_launches_daily_repo"')
            for view in views.values():
                body = self.translate(view.render(DATASETS))
                con.execute(f"CREATE OR REPLACE VIEW {qualified(view)} AS {body}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def setup(self) -> None:
        with self.session():
            pass

    def insert(self, table: str, rows: Sequence[tuple]) -> None:
        self.load(table, rows)

    def load(
        self,
        table: str,
        rows: Sequence[tuple],
        *,
        first: str = "",
        params: Mapping[str, Any] | None = None,
    ) -> int:
        if first:
            with self.session() as con:
                con.execute("BEGIN TRANSACTION")
                try:
                    self.query(first, params)
                    loaded = self._load(table, rows, atomic=False)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                return loaded
        return self._load(table, rows)

    def _load(self, table: str, rows: Sequence[tuple], atomic: bool = True) -> int:
        if not rows:
            return 0
        spec = schemas.table(table)
        target = qualified(spec)
        with self.session() as con:
            before = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
            if len(rows) < 64:
                marks = ", ".join("?" * len(spec.columns))
                verb = "INSERT OR IGNORE" if spec.key else "INSERT"  # a keyless table appends
                con.executemany(f"{verb} INTO {target} VALUES ({marks})", list(rows))
            else:
                con.register("_batch", arrow_rows(spec.columns, rows))
                try:
                    if atomic:
                        self._insert_new(con, target)
                    else:  # a failed statement would end the caller's transaction
                        con.execute(f"INSERT OR IGNORE INTO {target} SELECT * FROM _batch")
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

        if self.read_only:
            self._check_reads(text)
        translated = self.translate(text)
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
            except (duckdb.PermissionException, duckdb.InvalidInputException) as e:
                if not self.read_only:
                    raise
                # The engine's own refusal names the statement kind it saw.
                raise sql.ReadOnly(f"the warehouse is open read-only here: {e}") from None

    def _check_reads(self, text: str) -> None:
        """Refuse a statement DuckDB's own parser classifies as anything but a query, by the
        kind it names (``INSTALL httpfs`` is a LOAD). What it cannot parse (BigQuery syntax)
        goes on to the translation; the read-only engine refuses the rest when it runs."""
        import duckdb

        with self.session() as con:
            try:
                kinds = [statement.type.name for statement in con.extract_statements(text)]
            except duckdb.Error:
                return
        if others := [kind for kind in kinds if kind != "SELECT"]:
            raise sql.ReadOnly(
                f"the warehouse is open read-only here: DuckDB reads this as {others[0]}, "
                "not a query that reads"
            )

    def modified(self, table: str) -> str | None:
        """None: DuckDB records no modification time, and reading a table again is cheap."""
        return None

    def replace(
        self, table: str, column: str, first: Any, last: Any, rows: Sequence[tuple]
    ) -> None:
        spec = schemas.table(table)
        with self.session() as con:
            if not rows:
                self._swap(con, qualified(spec), column, [(first, last)], None)
                return
            con.register("_batch", arrow_rows(spec.columns, rows))
            try:
                self._swap(con, qualified(spec), column, [(first, last)], "_batch")
            finally:
                con.unregister("_batch")

    def refresh(
        self, table: str, column: str, ranges: Sequence[tuple[Any, Any]], select: str
    ) -> None:
        """Replace the rows of ``table`` whose ``column`` falls in ``ranges`` with what
        ``select`` computes for them: computed first, beside the table, then swapped in
        one transaction."""
        spec = schemas.table(table)
        target = qualified(spec)
        columns = ", ".join(f'"{name}"' for name in spec.column_names)
        translated = self.translate(select)
        with self.session() as con:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _refreshed AS SELECT {columns} FROM {target} LIMIT 0"
            )
            try:
                for first, last in ranges:
                    con.execute(
                        f"INSERT INTO _refreshed SELECT {columns} FROM ({translated})",
                        {"first": first, "last": last},
                    )
                self._swap(con, target, column, ranges, "_refreshed")
            finally:
                con.execute("DROP TABLE IF EXISTS _refreshed")

    @staticmethod
    def _swap(
        con, target: str, column: str, ranges: Sequence[tuple[Any, Any]], source: str | None
    ) -> None:
        """The rows of ``target`` whose ``column`` falls in ``ranges`` for those of the
        relation ``source`` (none: the ranges are emptied), in one transaction. The new rows
        are appended: nothing here looks one value up, so no order is kept but the order
        the days came in, which lets a scan of some days skip the row groups of others."""
        con.execute("BEGIN TRANSACTION")
        try:
            for first, last in ranges:
                con.execute(
                    f'DELETE FROM {target} WHERE "{column}" BETWEEN $first AND $last',
                    {"first": first, "last": last},
                )
            if source:
                con.execute(f"INSERT INTO {target} SELECT * FROM {source}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def arrow_each(
        self,
        select: str,
        params: Sequence[Mapping[str, Any]],
        each: Callable[[Mapping[str, Any], Any], T],
    ) -> list[T]:
        """Run the BigQuery SQL ``select`` once per set of ``params`` and hand each set and
        its result, an Arrow table, to ``each``; return what ``each`` returns, in order.

        One query (a day of launches) is too small to keep every core busy, so a few run
        at once, each on its own cursor, and ``each`` runs in the same worker: its writes
        overlap the next query (DuckDB and pyarrow both release the GIL).
        """
        from concurrent.futures import ThreadPoolExecutor

        translated = self.translate(select)
        with self.session() as con:

            def run(values: Mapping[str, Any]) -> T:
                with con.cursor() as cursor:
                    query = cursor.sql(translated, params=dict(values))
                    result = query.to_arrow_table(ARROW_BATCH_ROWS)
                    return each(values, result)

            with ThreadPoolExecutor(QUERY_THREADS) as pool:
                return list(pool.map(run, params))


def arrow_rows(columns: Sequence[schemas.Column], rows: Sequence[tuple]):
    """Rows of ``columns`` as an Arrow table DuckDB scans in bulk: tuples convert in C as one
    struct array."""
    import pyarrow as pa

    types = {
        "STRING": pa.string(),
        "TIMESTAMP": pa.timestamp("us", tz="UTC"),
        "INT64": pa.int64(),
        "BOOL": pa.bool_(),
        "DATE": pa.date32(),
        "FLOAT64": pa.float64(),
    }
    row_type = pa.struct([(c.name, types[c.type]) for c in columns])
    return pa.Table.from_struct_array(pa.array(rows, type=row_type))
