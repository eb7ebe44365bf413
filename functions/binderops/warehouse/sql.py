"""BigQuery SQL, the one dialect binderops writes, and its DuckDB translation."""

from __future__ import annotations

from functools import lru_cache

from ..errors import Drop


class QueryError(Drop):
    """The SQL could not be parsed or translated; the message says where."""


@lru_cache(maxsize=256)
def to_duckdb(bigquery_sql: str) -> str:
    """Translate BigQuery SQL to DuckDB SQL with sqlglot."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        statements = sqlglot.transpile(bigquery_sql, read="bigquery", write="duckdb")
    except SqlglotError as e:
        raise QueryError(f"cannot read this as BigQuery SQL: {e}") from None
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, got {len(statements)}")
    return statements[0]
