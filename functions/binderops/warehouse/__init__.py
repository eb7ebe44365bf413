"""One small warehouse interface with two backends: embedded DuckDB and BigQuery.

The interface and its error are in ``base``; ``open_warehouse`` picks the backend.
"""

from __future__ import annotations

from ..core.errors import ConfigError
from .base import ArrowReading, Exporting, Warehouse, WarehouseUnavailable

__all__ = ["ArrowReading", "Exporting", "Warehouse", "WarehouseUnavailable", "open_warehouse"]


def open_warehouse(url: str, bigquery_api_url: str = "", read_only: bool = False) -> Warehouse:
    """The warehouse named by ``BINDEROPS_WAREHOUSE``: ``duckdb://PATH`` or ``bigquery://PROJECT/DATASET``.

    ``read_only``: the engine itself refuses every statement that would change data or reach
    outside the warehouse (what ``binderops query`` runs, typed by whoever runs it)."""
    if url.startswith("duckdb://"):
        from .duckdb import DuckDBWarehouse

        return DuckDBWarehouse(url[len("duckdb://") :], read_only=read_only)
    if url.startswith("bigquery://"):
        from .bigquery import BigQueryWarehouse

        project, _, dataset = url[len("bigquery://") :].partition("/")
        if not project or not dataset or "/" in dataset:
            raise ConfigError(
                f"BINDEROPS_WAREHOUSE must look like bigquery://PROJECT/DATASET, got {url!r}"
            )
        return BigQueryWarehouse(project, dataset, api_url=bigquery_api_url, read_only=read_only)
    raise ConfigError(f"unknown warehouse {url!r}: use duckdb://PATH or bigquery://PROJECT/DATASET")
