"""How the command and the stack open the warehouse: reading needs one that exists."""

from __future__ import annotations

from pathlib import Path

from ..core.config import Settings
from ..warehouse import Warehouse, open_warehouse
from . import Mistake


def existing_warehouse(
    settings: Settings, create: bool = False, read_only: bool = False
) -> Warehouse:
    """The configured warehouse. It must already exist unless ``create``: only `run`,
    `backfill` and `setup` make one (a query from the wrong folder must not make an empty one).
    ``read_only``: the engine refuses writes and reads of anything but the warehouse."""
    if settings.warehouse.startswith("duckdb://"):
        path = Path(settings.warehouse.removeprefix("duckdb://")).expanduser()
        if path.is_dir():
            raise Mistake(f"{path} is a folder; BINDEROPS_WAREHOUSE takes duckdb://FILE")
        if not create and not path.exists():
            raise Mistake(
                f"no warehouse at {path}: `binderops run`, `setup` or `backfill` makes one "
                "(or set BINDEROPS_WAREHOUSE, or run this where .binderops is)"
            )
    return open_warehouse(settings.warehouse, settings.bigquery_api_url, read_only)
