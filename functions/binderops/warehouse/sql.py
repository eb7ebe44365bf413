"""BigQuery SQL, the one dialect binderops writes, and its DuckDB translation."""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import Drop

# sqlglot underlines the offending token with terminal escape codes; a message keeps none.
_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class QueryError(Drop):
    """The SQL could not be parsed, translated or run; the message says where."""

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


def check_read_only(bigquery_sql: str) -> None:
    """Raise QueryError unless the SQL is one query that reads (SELECT, WITH, UNION …)."""
    from sqlglot import exp

    [statement] = _parse(bigquery_sql)
    if not isinstance(statement, exp.Query):
        kind = statement.key.upper() if statement.key else "this statement"
        raise QueryError(
            f"only queries that read are allowed here, not {kind}; "
            "the warehouse is written by `binderops run`, `backfill`, `setup` and `costs`"
        )


# A table column whose values the warehouse keeps unique: (schema, table, column).
UniqueColumn = tuple[str, str, str]


@lru_cache(maxsize=256)
def to_duckdb(bigquery_sql: str, unique: frozenset[UniqueColumn] = frozenset()) -> str:
    """Translate BigQuery SQL to DuckDB SQL with sqlglot.

    ``INFORMATION_SCHEMA.TABLES`` (BigQuery's list of a dataset's tables and views) reads
    DuckDB's ``information_schema.tables``, which has the same leading columns.

    ``unique`` names the key columns DuckDB enforces (a PRIMARY KEY). BigQuery's streaming
    dedupe is best effort, so binderops' SQL drops repeated keys itself: ``COUNT(DISTINCT
    key)`` and ``QUALIFY ROW_NUMBER() OVER (PARTITION BY key …) = 1``. Over a table that
    cannot hold a repeated key both are no-ops, and costly ones DuckDB does not see
    through (a distinct count of 10 M launches takes seconds), so they become ``COUNT(*)``
    and no filter.
    """
    from sqlglot import exp

    [statement] = _parse(bigquery_sql)
    for table in statement.find_all(exp.Table):
        name = ".".join(part for part in (table.db, table.name) if part).upper()
        if name.endswith("INFORMATION_SCHEMA.TABLES"):
            table.set("this", exp.to_identifier("tables"))
            table.set("db", exp.to_identifier("information_schema"))
            table.set("catalog", None)
    if unique:
        for select in list(statement.find_all(exp.Select)):
            _drop_key_dedupe(select, unique)
    return statement.sql(dialect="duckdb")


def _drop_key_dedupe(select, unique: frozenset[UniqueColumn]) -> None:
    """Remove the dedupe of a key in a SELECT that reads one table keeping that key unique."""
    from sqlglot import exp

    source = select.args.get("from_")
    if source is None or select.args.get("joins") or not isinstance(source.this, exp.Table):
        return
    table = source.this
    keys = {column for schema, name, column in unique if (schema, name) == (table.db, table.name)}
    qualifiers = {"", table.name, table.alias_or_name}

    def is_key(node) -> bool:
        return isinstance(node, exp.Column) and node.name in keys and node.table in qualifiers

    for count in list(select.find_all(exp.Count)):
        distinct = count.this
        if (
            count.parent_select is select
            and isinstance(distinct, exp.Distinct)
            and len(distinct.expressions) == 1
            and is_key(distinct.expressions[0])
        ):
            count.set("this", exp.Star())
    qualify = select.args.get("qualify")
    condition = qualify.this if qualify else None
    if (
        isinstance(condition, exp.EQ)
        and isinstance(condition.this, exp.Window)
        and isinstance(condition.this.this, exp.RowNumber)
        and len(condition.this.args.get("partition_by") or []) == 1
        and is_key(condition.this.args["partition_by"][0])
        and condition.expression == exp.Literal.number(1)
    ):
        select.set("qualify", None)
