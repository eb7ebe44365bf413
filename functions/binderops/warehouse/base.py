"""What every warehouse backend offers, and the one error they raise for a transient failure.

Rows are tuples (each table's named tuple) in the column order of the table's schema in
``schemas/bigquery/``. Every write is idempotent on the table's key (``event_id`` for
launches), so a redelivered message or a re-run backfill adds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ..core.errors import Retry


class WarehouseUnavailable(Retry):
    """A transient failure: try again later (the function raises so Pub/Sub redelivers)."""

    kind = "warehouse_unavailable"


class Warehouse(Protocol):
    url: str
    # How SQL templates name the datasets: ``{{ raw }}`` and ``{{ public }}`` in ``schemas/sql``.
    names: dict[str, str]
    # Where published files come from: True when the warehouse writes them to Cloud Storage
    # itself (BigQuery's EXPORT DATA: it has ``export``), False when their rows come here as
    # Arrow to be written (DuckDB: it has ``arrow_each``). The archive asks this, never the URL.
    exports_files: bool

    def setup(self) -> None:
        """Create the tables and views of ``schemas/catalog.json`` that are missing."""

    def insert(self, table: str, rows: Sequence[tuple]) -> None:
        """Stream a few rows; duplicates of an existing key are dropped."""

    def load(self, table: str, rows: Sequence[tuple]) -> int:
        """Bulk-load rows (no streaming cost); return how many were new."""

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
