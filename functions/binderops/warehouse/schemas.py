"""Read ``schemas/``: the event JSON Schemas, table schemas and SQL that everything shares.

The folder is found beside ``functions/`` in the repository, beside ``binderops/`` in a
deployed function's source (Terraform copies it in), or inside the installed package as
``binderops/_schemas`` (a wheel carries it as package data). ``BINDEROPS_SCHEMAS_DIR``
overrides all three.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..core.templates import Missing, render_text

PACKAGE = Path(__file__).resolve().parent.parent


@cache
def schemas_dir() -> Path:
    """The ``schemas/`` folder in use."""
    override = os.environ.get("BINDEROPS_SCHEMAS_DIR")
    if override:
        candidates = [Path(override)]
    else:
        candidates = [
            PACKAGE / "_schemas",
            PACKAGE.parent / "schemas",
            PACKAGE.parent.parent / "schemas",
        ]
    for candidate in candidates:
        if (candidate / "catalog.json").is_file():
            return candidate
    raise FileNotFoundError(
        "cannot find schemas/catalog.json (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); set BINDEROPS_SCHEMAS_DIR to the repository's schemas folder"
    )


def read_json(relative: str) -> Any:
    with open(schemas_dir() / relative, encoding="utf-8") as f:
        return json.load(f)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    mode: str
    description: str
    fields: tuple[Column, ...] = ()  # of a RECORD

    @classmethod
    def from_json(cls, field: dict) -> Column:
        return cls(
            field["name"],
            field["type"],
            field.get("mode", "NULLABLE"),
            field.get("description", ""),
            tuple(cls.from_json(f) for f in field.get("fields", [])),
        )


def columns(relative: str) -> tuple[Column, ...]:
    """The columns of a BigQuery table schema file under ``schemas/``."""
    return tuple(Column.from_json(f) for f in read_json(relative))


@dataclass(frozen=True)
class Table:
    name: str
    dataset: str
    columns: tuple[Column, ...]
    key: str | None  # None: rows are replaced by day, not deduplicated by key
    partition_field: str | None
    clustering: tuple[str, ...]
    description: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def key_index(self) -> int:
        return self.column_names.index(self.key)


@dataclass(frozen=True)
class View:
    name: str
    dataset: str
    sql_template: str
    description: str

    def render(self, datasets: dict[str, str]) -> str:
        """The view's SQL with ``{{ raw }}`` and ``{{ public }}`` as real dataset names."""
        return render_text(self.sql_template, **datasets)


@cache
def catalog() -> tuple[dict[str, Table], dict[str, View]]:
    """Tables and views from ``schemas/catalog.json``, in creation order."""
    doc = read_json("catalog.json")
    tables = {}
    for name, meta in doc["tables"].items():
        partitioning = meta.get("time_partitioning") or {}
        tables[name] = Table(
            name=name,
            dataset=meta["dataset"],
            columns=columns(meta["schema"]),
            key=meta.get("key"),
            partition_field=partitioning.get("field"),
            clustering=tuple(meta.get("clustering", [])),
            description=meta.get("description", ""),
        )
    views = {}
    for name, meta in doc["views"].items():
        sql = (schemas_dir() / meta["query"]).read_text(encoding="utf-8")
        views[name] = View(name, meta["dataset"], sql, meta.get("description", ""))
    return tables, views


def table(name: str) -> Table:
    return catalog()[0][name]


@cache
def sql(name: str) -> str:
    """The BigQuery SQL of ``schemas/sql/NAME.sql``, for ``Warehouse.query``."""
    return (schemas_dir() / "sql" / f"{name}.sql").read_text(encoding="utf-8")


def sql_in(name: str, names: dict[str, str], **more: str) -> str:
    """``schemas/sql/NAME.sql`` with ``{{ raw }}`` and ``{{ public }}`` as a warehouse names
    them (its ``names``), and any other name the file uses given in ``more`` (the billing
    export's table, say). A name left out is an error (``templates.Missing``)."""
    return render_text(sql(name), **names, **more)


def sql_files(names: dict[str, str]) -> list[str]:
    """Every ``schemas/sql/`` file as ``sql_in`` renders it for a warehouse's ``names``;
    those that need other names, filled in by their caller, are left out."""
    root = schemas_dir() / "sql"
    texts = []
    for path in sorted(root.rglob("*.sql")):
        try:
            texts.append(sql_in(path.relative_to(root).with_suffix("").as_posix(), names))
        except Missing:
            continue
    return texts


@cache
def launch_event_schemas() -> dict[int, dict]:
    """JSON Schema of each version of ``binderhub.jupyter.org/launch``, keyed by version."""
    folder = schemas_dir() / "events" / "launch"
    return {
        int(p.stem[1:]): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(folder.glob("v*.json"))
    }
