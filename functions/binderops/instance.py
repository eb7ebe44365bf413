"""What one function instance keeps between requests: settings and clients, made lazily."""

from __future__ import annotations

from functools import cache

from .config import Settings
from .warehouse import Warehouse, open_warehouse


@cache
def settings() -> Settings:
    return Settings.from_env()


@cache
def warehouse() -> Warehouse:
    current = settings()
    return open_warehouse(current.warehouse, current.bigquery_api_url)
