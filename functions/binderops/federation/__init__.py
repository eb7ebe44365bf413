"""Federation health: every member of the register probed each minute (``rounds``), outages
opened and closed as incidents, launch outcomes read from BinderHub's own metrics, and a
public status page (``status``)."""

from __future__ import annotations

from typing import Any

from ..warehouse import Warehouse, schemas


def query(warehouse: Warehouse, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """``schemas/sql/federation/NAME.sql`` on ``warehouse``."""
    return warehouse.query(schemas.sql_in(f"federation/{name}", warehouse.names), params)
