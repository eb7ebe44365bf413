"""What every warehouse backend offers, and the one error they raise for a transient failure.

Rows are tuples (each table's named tuple) in the column order of the table's schema in
``schemas/bigquery/``. Every write is idempotent on the table's key (``event_id`` for
launches), so a redelivered message or a re-run backfill adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar, runtime_checkable

from ..core.errors import Retry

T = TypeVar("T")


class WarehouseUnavailable(Retry):
    """A transient failure: try again later (the function raises so Pub/Sub redelivers)."""

    kind = "warehouse_unavailable"


class Warehouse(Protocol):
    url: str
    # How SQL templates name the datasets: ``{{ raw }}`` and ``{{ public }}`` in ``schemas/sql``.
    names: dict[str, str]

    def setup(self) -> None:
        """Create the tables and views of ``schemas/catalog.json`` that are missing."""

    def insert(self, table: str, rows: Sequence[tuple]) -> None:
        """Stream a few rows; duplicates of an existing key are dropped."""

    def load(
        self,
        table: str,
        rows: Sequence[tuple],
        *,
        first: str = "",
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """Bulk-load rows (no streaming cost); return how many were new. ``first``, a
        statement (with ``params``), runs in the same transaction before the rows go in:
        readers see neither or both (backfill's --replace-live deletes live launches)."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run BigQuery SQL (``@name`` parameters from ``params``) and return rows as dicts."""

    def replace(
        self, table: str, column: str, first: Any, last: Any, rows: Sequence[tuple]
    ) -> None:
        """Atomically replace the rows whose ``column`` lies in [first, last] by ``rows``."""

    def refresh(
        self, table: str, column: str, ranges: Sequence[tuple[Any, Any]], select: str
    ) -> None:
        """Atomically replace the rows whose ``column`` lies in each [first, last] of
        ``ranges`` by the rows the query ``select`` gives for ``@first`` and ``@last``:
        computed in the warehouse, nothing passes through Python."""

    def modified(self, table: str) -> str | None:
        """When ``table``'s rows last changed, as the warehouse records it, or None where it
        records nothing: a reader that holds the rows can skip reading them again."""

    def session(self) -> AbstractContextManager:
        """Keep what connection the backend has open for a run of operations."""

    def close(self) -> None:
        """Release connections and files."""


# How published files are made differs by backend, so the archive asks which of these two a
# warehouse is (isinstance), never its URL.
@runtime_checkable
class Exporting(Warehouse, Protocol):
    """A warehouse that writes published files to Cloud Storage itself (BigQuery)."""

    def export(self, select: str, params: Mapping[str, Any], uri: str, format: str) -> None:
        """``EXPORT DATA`` the rows of ``select`` to ``uri``: they never pass through here."""


@runtime_checkable
class ArrowReading(Warehouse, Protocol):
    """A warehouse whose rows come here as Arrow tables, to be written by pyarrow (DuckDB)."""

    def arrow_each(
        self,
        select: str,
        params: Sequence[Mapping[str, Any]],
        each: Callable[[Mapping[str, Any], Any], T],
    ) -> list[T]:
        """Run ``select`` once per set of ``params``; hand each its Arrow table; return the
        results of ``each`` in order."""
