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


@lru_cache(maxsize=256)
def to_duckdb(bigquery_sql: str) -> str:
    """Translate BigQuery SQL to DuckDB SQL with sqlglot.

    ``INFORMATION_SCHEMA.TABLES`` (BigQuery's list of a dataset's tables and views) reads
    DuckDB's ``information_schema.tables``, which has the same leading columns.
    """
    from sqlglot import exp

    [statement] = _parse(bigquery_sql)
    for table in statement.find_all(exp.Table):
        name = ".".join(part for part in (table.db, table.name) if part).upper()
        if name.endswith("INFORMATION_SCHEMA.TABLES"):
            table.set("this", exp.to_identifier("tables"))
            table.set("db", exp.to_identifier("information_schema"))
            table.set("catalog", None)
    return statement.sql(dialect="duckdb")
