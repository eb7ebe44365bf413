"""What one function instance keeps between requests: settings and clients, made lazily.

functions-framework serves requests on several threads, so creation is locked: two
first requests at once must not build two clients (or run DDL twice).
"""

from __future__ import annotations

import threading
from functools import cache

from .config import Settings
from .warehouse import Warehouse, open_warehouse

_lock = threading.Lock()


@cache
def _settings() -> Settings:
    return Settings.from_env()


@cache
def _warehouse() -> Warehouse:
    current = _settings()
    return open_warehouse(current.warehouse, current.bigquery_api_url)


def settings() -> Settings:
    with _lock:
        return _settings()


def warehouse() -> Warehouse:
    with _lock:
        return _warehouse()


def reset() -> None:
    """Forget settings and clients (tests that change the environment call this)."""
    with _lock:
        _settings.cache_clear()
        _warehouse.cache_clear()
