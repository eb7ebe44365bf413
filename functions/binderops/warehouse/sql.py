"""BigQuery SQL, the one dialect binderops writes, and its DuckDB translation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..core.errors import Drop

# sqlglot underlines the offending token with terminal escape codes; a message keeps none.
_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class QueryError(Drop):
    """The SQL could not be parsed, translated or run; the message says where."""

    kind = "query"

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(_ESCAPES.sub("", message).split()))  # one line


def _parse(bigquery_sql: str) -> list:
    import sqlglot
    from sqlglot.errors import SqlglotError

    if not bigquery_sql.strip():
        raise QueryError("no SQL given")
    try:
        statements = [s for s in sqlglot.parse(bigquery_sql, read="bigquery") if s is not None]
    except SqlglotError as e:
        raise QueryError(f"cannot read this as BigQuery SQL: {e}") from None
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, got {len(statements)}")
    return statements


class ReadOnly(QueryError):
    """The engine refused a statement on a warehouse opened read-only; the message says which."""

    kind = "read_only"


# A table's column as the DuckDB SQL names it: (schema, table, column).
ColumnName = tuple[str, str, str]


@dataclass(frozen=True)
class Constraints:
    """What DuckDB enforces on its tables' columns, which a translation may rely on."""

    unique: frozenset[ColumnName] = frozenset()  # a PRIMARY KEY
    required: frozenset[ColumnName] = frozenset()  # NOT NULL


@lru_cache(maxsize=256)
def to_duckdb(bigquery_sql: str, constraints: Constraints = Constraints()) -> str:
    """Translate BigQuery SQL to DuckDB SQL with sqlglot.

    ``INFORMATION_SCHEMA.TABLES`` (BigQuery's list of a dataset's tables and views) reads
    DuckDB's ``information_schema.tables``, which has the same leading columns.

    Two rewrites rely on the ``constraints`` DuckDB enforces, each within a SELECT that
    reads one table alone (or a ``SELECT *`` of one, see ``_Columns``):

    - BigQuery's streaming dedupe is best effort, so binderops' SQL drops repeated keys
      itself: ``COUNT(DISTINCT key)`` and ``QUALIFY ROW_NUMBER() OVER (PARTITION BY key …)
      = 1``. Over a table that cannot hold a repeated key both are no-ops, and costly ones
      DuckDB does not see through (a distinct count of 10 M launches takes seconds), so
      they become ``COUNT(*)`` and no filter.
    - See ``_concat_natively``.

    And ``FORMAT_TIMESTAMP`` of a column reads its UTC wall clock directly (``_format_in_utc``).
    """
    from sqlglot import exp

    [statement] = _parse(bigquery_sql)
    for table in statement.find_all(exp.Table):
        name = ".".join(part for part in (table.db, table.name) if part).upper()
        if name.endswith("INFORMATION_SCHEMA.TABLES"):
            table.set("this", exp.to_identifier("tables"))
            table.set("db", exp.to_identifier("information_schema"))
            table.set("catalog", None)
    for select in list(statement.find_all(exp.Select)):
        _drop_key_dedupe(select, constraints.unique)
        _concat_natively(select, constraints.required)
    _format_in_utc(statement)  # after _concat_natively, which reads the formats as sqlglot's
    return statement.sql(dialect="duckdb")


def _format_in_utc(statement) -> None:
    """BigQuery's ``FORMAT_TIMESTAMP`` formats a timestamp column in UTC (its default, and
    the zone binderops' SQL names). sqlglot writes ``STRFTIME(CAST(column AS TIMESTAMP),
    …)``, which takes UTC from the session's time zone and looks that zone up for every row:
    as long as the formatting itself. ``MAKE_TIMESTAMP(EPOCH_US(column))`` is the same UTC
    wall clock without a zone, whatever the session's."""
    from sqlglot import exp

    for node in list(statement.find_all(exp.TimeToStr)):
        zone, value = node.args.get("zone"), node.this
        if zone is not None and not (zone.is_string and zone.name.upper() == "UTC"):
            continue
        if isinstance(value, exp.TsOrDsToTimestamp) and isinstance(value.this, exp.Column):
            micros = exp.Anonymous(this="EPOCH_US", expressions=[value.this.copy()])
            value.replace(exp.Anonymous(this="MAKE_TIMESTAMP", expressions=[micros]))


class _Columns:
    """The columns of the one source a SELECT reads alone, as that SELECT names them: a
    table's, or a table's as a subquery passes them on unchanged (a bare ``SELECT *``, no
    ``REPLACE``, from that table alone, filtered or ordered: neither makes a NULL or
    repeats a row)."""

    def __init__(self, select, names: frozenset[ColumnName]) -> None:
        from sqlglot import exp

        source = select.args.get("from_")
        read = source.this if source is not None and not select.args.get("joins") else None
        self.names: set[str] = set()
        self.qualifiers: set[str] = set()
        if isinstance(read, exp.Table):
            self.names = {c for s, t, c in names if (s, t) == (read.db, read.name)}
            self.qualifiers = {"", read.name, read.alias_or_name}
        elif (
            isinstance(read, exp.Subquery)
            and isinstance(read.this, exp.Select)
            and read.this.expressions == [exp.Star()]
        ):
            self.names = _Columns(read.this, names).names
            self.qualifiers = {"", read.alias_or_name}

    def __contains__(self, node) -> bool:
        from sqlglot import exp

        return (
            isinstance(node, exp.Column)
            and node.name in self.names
            and node.table in self.qualifiers
        )


def _drop_key_dedupe(select, unique: frozenset[ColumnName]) -> None:
    """Remove the dedupe of a key in a SELECT that reads one table keeping that key unique."""
    from sqlglot import exp

    keys = _Columns(select, unique)
    if not keys.names:
        return
    for count in list(select.find_all(exp.Count)):
        distinct = count.this
        if (
            count.parent_select is select
            and isinstance(distinct, exp.Distinct)
            and len(distinct.expressions) == 1
            and distinct.expressions[0] in keys
        ):
            count.set("this", exp.Star())
    qualify = select.args.get("qualify")
    condition = qualify.this if qualify else None
    if (
        isinstance(condition, exp.EQ)
        and isinstance(condition.this, exp.Window)
        and isinstance(condition.this.this, exp.RowNumber)
        and len(condition.this.args.get("partition_by") or []) == 1
        and condition.this.args["partition_by"][0] in keys
        and condition.expression == exp.Literal.number(1)
    ):
        select.set("qualify", None)


def _concat_natively(select, required: frozenset[ColumnName]) -> None:
    """BigQuery's ``CONCAT`` is NULL if any argument is; sqlglot writes it for DuckDB as a
    chain of ``||``, which keeps that but builds every intermediate string: the archive's
    lines, twenty pieces each, cost about twice what they should. DuckDB's ``concat()``
    builds one string but skips NULLs, so it joins each run of arguments that cannot be
    NULL, and ``||`` joins the runs to the arguments that can.

    An argument cannot be NULL when it is a literal, a NOT NULL column of the one table the
    SELECT reads (see ``_Columns``), a column in the ELSE of ``IF(column IS NULL OR …,
    …)``, or a cast, timestamp format, JSON string or ``CONCAT`` of such arguments only.
    """
    from functools import reduce

    from sqlglot import exp

    columns = _Columns(select, required)
    strict = (exp.Cast, exp.TimeToStr, exp.TsOrDsToTimestamp, exp.JSONFormat, exp.Paren)

    def known(node) -> set[tuple[str, str]]:
        """Columns that cannot be NULL where ``node`` is: in the ELSE of an IF testing them."""
        found: set[tuple[str, str]] = set()
        while node.parent is not None and node.parent_select is select:
            parent = node.parent
            if isinstance(parent, exp.If) and parent.args.get("false") is node:
                condition = parent.this
                tests = condition.flatten() if isinstance(condition, exp.Or) else [condition]
                found.update(
                    (test.this.table, test.this.name)
                    for test in tests
                    if isinstance(test, exp.Is)
                    and isinstance(test.expression, exp.Null)
                    and isinstance(test.this, exp.Column)
                )
            node = parent
        return found

    def never_null(node, guarded: set[tuple[str, str]]) -> bool:
        if isinstance(node, exp.Literal):
            return True
        if isinstance(node, exp.Column):
            return node in columns or (node.table, node.name) in guarded
        if isinstance(node, exp.If):
            false = node.args.get("false")
            return (
                false is not None
                and never_null(node.args["true"], guarded)
                and never_null(false, guarded | known(false))
            )
        if isinstance(node, exp.TryCast) or not isinstance(node, (*strict, exp.Concat)):
            return False
        children = [c for c in node.iter_expressions() if not isinstance(c, exp.DataType)]
        return all(never_null(c, guarded) for c in children)

    concats = [c for c in select.find_all(exp.Concat) if c.parent_select is select]
    for concat in sorted(concats, key=lambda c: c.depth, reverse=True):  # innermost first
        guarded = known(concat)
        pieces, run = [], []
        for arg in list(concat.expressions):
            if never_null(arg, guarded):
                run.append(arg)
                continue
            pieces += _joined(run)
            run = []
            pieces.append(arg)
        pieces += _joined(run)
        concat.replace(reduce(lambda a, b: exp.DPipe(this=a, expression=b), pieces))


def _joined(run: list) -> list:
    """One DuckDB ``concat()`` of arguments that are never NULL, or the one argument."""
    from sqlglot import exp

    if len(run) < 2:
        return run
    return [exp.Concat(expressions=run, safe=True, coalesce=True)]
