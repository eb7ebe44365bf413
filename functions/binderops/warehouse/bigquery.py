"""The production warehouse: BigQuery, through the google-cloud-bigquery client.

Raw tables live in the private dataset ``DATASET_raw``; public views in ``DATASET``.
Streaming inserts carry ``event_id`` as insertId; bulk loads are free load jobs into a
staging table, merged on the key so a re-run adds nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..clients.http import google_endpoint
from . import schemas
from .base import WarehouseUnavailable
from .sql import QueryError, ReadOnly

# A function should fail fast and let Pub/Sub redeliver rather than retry for minutes.
STREAM_RETRY_SECONDS = 20.0
REQUEST_TIMEOUT_SECONDS = 10.0


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _json_rows(spec: schemas.Table, rows: Sequence[tuple]) -> list[dict[str, Any]]:
    """Row tuples as the JSON objects insertAll and JSON load jobs take."""
    names = spec.column_names
    return [{n: _json_value(v) for n, v in zip(names, row)} for row in rows]


def _schema_fields(spec: schemas.Table) -> list:
    from google.cloud import bigquery

    return [
        bigquery.SchemaField(c.name, c.type, mode=c.mode, description=c.description)
        for c in spec.columns
    ]


class BigQueryWarehouse:
    def __init__(
        self, project: str, dataset: str, api_url: str = "", read_only: bool = False
    ) -> None:
        self.project = project
        self.dataset = dataset
        self.api_url = api_url
        self.read_only = read_only
        self.url = f"bigquery://{project}/{dataset}"
        self.datasets = {"public": dataset, "raw": f"{dataset}_raw"}
        self.names = {kind: f"`{project}`.`{name}`" for kind, name in self.datasets.items()}
        self._client = None

    @property
    def client(self):
        """One client per instance, created on first use (keeps cold starts light)."""
        if self._client is None:
            from google.cloud import bigquery

            credentials, options = google_endpoint(self.api_url)
            self._client = bigquery.Client(
                project=self.project, credentials=credentials, client_options=options
            )
        return self._client

    def session(self) -> AbstractContextManager:
        return nullcontext()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _table_id(self, spec: schemas.Table) -> str:
        return f"{self.project}.{self.datasets[spec.dataset]}.{spec.name}"

    def setup(self) -> None:
        """Create datasets, tables (partitioned, clustered) and views that are missing.

        Terraform does this in production; this serves anyone running without it.
        """
        from google.cloud import bigquery

        tables, views = schemas.catalog()
        for name in self.datasets.values():
            self.client.create_dataset(bigquery.Dataset(f"{self.project}.{name}"), exists_ok=True)
        for spec in tables.values():
            table = bigquery.Table(self._table_id(spec), schema=_schema_fields(spec))
            table.description = spec.description
            if spec.partition_field:
                table.time_partitioning = bigquery.TimePartitioning(
                    type_=bigquery.TimePartitioningType.DAY, field=spec.partition_field
                )
            if spec.clustering:
                table.clustering_fields = list(spec.clustering)
            self.client.create_table(table, exists_ok=True)
        for view in views.values():
            table = bigquery.Table(f"{self.project}.{self.datasets[view.dataset]}.{view.name}")
            table.view_query = view.render(self.names)
            table.description = view.description
            self.client.create_table(table, exists_ok=True)

    def insert(self, table: str, rows: Sequence[tuple]) -> None:
        from google.api_core import exceptions
        from google.cloud import bigquery

        spec = schemas.table(table)
        try:
            errors = self.client.insert_rows_json(
                self._table_id(spec),
                _json_rows(spec, rows),
                row_ids=[row[spec.key_index] for row in rows],
                retry=bigquery.DEFAULT_RETRY.with_timeout(STREAM_RETRY_SECONDS),
                timeout=REQUEST_TIMEOUT_SECONDS,
            )
        except (exceptions.ServerError, exceptions.TooManyRequests, ConnectionError) as e:
            raise WarehouseUnavailable(f"BigQuery insert into {table} failed: {e}") from e
        if errors:
            raise WarehouseUnavailable(f"BigQuery rejected rows of {table}: {str(errors)[:500]}")

    @contextmanager
    def staged(self, spec: schemas.Table, source: Sequence[tuple] | Path) -> Iterator[str]:
        """``spec``'s rows, or a JSONL file of them, in a staging table written by a (free)
        load job, dropped afterwards; its full name."""
        from google.cloud import bigquery

        staging = f"{self.project}.{self.datasets['raw']}._staging_{spec.name}_{uuid.uuid4().hex}"
        config = bigquery.LoadJobConfig(
            schema=_schema_fields(spec),
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        if isinstance(source, Path):
            config.source_format = bigquery.SourceFormat.NEWLINE_DELIMITED_JSON
            with open(source, "rb") as f:
                self.client.load_table_from_file(
                    f, staging, size=source.stat().st_size, job_config=config
                ).result()
        else:
            self.client.load_table_from_json(
                _json_rows(spec, source), staging, job_config=config
            ).result()
        try:
            yield staging
        finally:
            self.client.delete_table(staging, not_found_ok=True)

    def load(
        self,
        table: str,
        rows: Sequence[tuple],
        *,
        first: str = "",
        params: Mapping[str, Any] | None = None,
    ) -> int:
        if not rows and not first:
            return 0
        with self.staged(schemas.table(table), rows) as staging:
            return self.merge(table, f"SELECT * FROM `{staging}`", params or {}, first=first)

    def merge(
        self,
        table: str,
        source: str,
        params: Mapping[str, Any],
        *,
        first: str = "",
        within: str = "",
    ) -> int:
        """Add the rows of the query ``source`` whose key ``table`` lacks (one MERGE); return
        how many. ``within``: a condition on ``target`` that holds for every row ``source``
        could match, so that BigQuery reads only those partitions. ``first``: a statement to
        run before, in one transaction with it."""
        from google.cloud import bigquery

        spec = schemas.table(table)
        target = f"`{self._table_id(spec)}`"
        on = f"target.{spec.key} = source.{spec.key}" + (f" AND {within}" if within else "")
        merge = (
            f"MERGE {target} AS target USING (\n{source}\n) AS source\n"
            f"ON {on} WHEN NOT MATCHED THEN INSERT ROW"
        )
        config = bigquery.QueryJobConfig(query_parameters=_parameters(params))
        if not first:
            job = self.client.query(merge, job_config=config)
            job.result()
            return job.num_dml_affected_rows or 0
        # A script reports no count of its own: the rows the MERGE will add are counted
        # first (the statement before it deletes none of them: it runs on other keys).
        count = (
            f"SELECT COUNT(*) AS added FROM (\n{source}\n) AS source WHERE NOT EXISTS "
            f"(SELECT 1 FROM {target} AS target WHERE {on})"
        )
        [row] = self.client.query_and_wait(count, job_config=config)
        script = f"BEGIN TRANSACTION;\n{first.strip().rstrip(';')};\n{merge};\nCOMMIT TRANSACTION;"
        self.client.query(script, job_config=config).result()
        return int(row["added"])

    def replace(
        self, table: str, column: str, first: Any, last: Any, rows: Sequence[tuple]
    ) -> None:
        """One multi-statement transaction, the rows passed as an array parameter (no staging
        table, so the caller needs write access to this table only): readers see the old
        days or the new ones, never neither."""
        from google.cloud import bigquery

        spec = schemas.table(table)
        target = f"`{self._table_id(spec)}`"
        statements = [
            "BEGIN TRANSACTION;",
            f"DELETE FROM {target} WHERE {column} BETWEEN @first AND @last;",
        ]
        parameters = _parameters({"first": first, "last": last})
        if rows:
            statements.append(f"INSERT INTO {target} SELECT * FROM UNNEST(@rows);")
            parameters.append(
                bigquery.ArrayQueryParameter(
                    "rows",
                    "STRUCT",
                    [
                        bigquery.StructQueryParameter(
                            None,
                            *(
                                bigquery.ScalarQueryParameter(c.name, c.type, v)
                                for c, v in zip(spec.columns, row)
                            ),
                        )
                        for row in rows
                    ],
                )
            )
        statements.append("COMMIT TRANSACTION;")
        config = bigquery.QueryJobConfig(query_parameters=parameters)
        self.client.query("\n".join(statements), job_config=config).result()

    def refresh(
        self, table: str, column: str, ranges: Sequence[tuple[Any, Any]], select: str
    ) -> None:
        """One multi-statement transaction over the span of ``ranges``: BigQuery recomputes
        the days between them too (the same rows again) for one partition-pruned scan."""
        from google.cloud import bigquery

        spec = schemas.table(table)
        target = f"`{self._table_id(spec)}`"
        columns = ", ".join(spec.column_names)
        script = "\n".join(
            [
                "BEGIN TRANSACTION;",
                f"DELETE FROM {target} WHERE {column} BETWEEN @first AND @last;",
                f"INSERT INTO {target} ({columns})\nSELECT {columns} FROM (\n{select.strip()}\n);",
                "COMMIT TRANSACTION;",
            ]
        )
        span = {"first": min(f for f, _ in ranges), "last": max(last for _, last in ranges)}
        config = bigquery.QueryJobConfig(query_parameters=_parameters(span))
        self.client.query(script, job_config=config).result()

    def export(self, select: str, params: Mapping[str, Any], uri: str, format: str) -> None:
        """``EXPORT DATA`` the rows of ``select`` to Cloud Storage at ``uri`` (one ``*``, which
        BigQuery numbers its files by): the rows never pass through this process."""
        from google.cloud import bigquery

        options = f"uri='{uri}', format='{format}', overwrite=true"
        if format == "PARQUET":
            options += ", compression='ZSTD'"
        statement = f"EXPORT DATA OPTIONS ({options}) AS\n{select.strip()}"
        config = bigquery.QueryJobConfig(query_parameters=_parameters(params))
        self.client.query(statement, job_config=config).result()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        from google.api_core import exceptions
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            default_dataset=f"{self.project}.{self.dataset}",
            query_parameters=_parameters(params or {}),
        )
        try:
            if self.read_only:
                self._check_reads(sql, config)
            rows = self.client.query_and_wait(sql, job_config=config)
            return [dict(row.items()) for row in rows]
        except (exceptions.ServerError, exceptions.TooManyRequests, ConnectionError) as e:
            raise WarehouseUnavailable(f"BigQuery query failed: {e}") from e
        except (exceptions.BadRequest, exceptions.NotFound, exceptions.Forbidden) as e:
            raise QueryError(f"BigQuery refused the query: {e.message}") from None

    def _check_reads(self, sql: str, config) -> None:
        """Refuse anything but a query that reads, as BigQuery itself classifies it: a dry
        run (free; it plans the job without running it) reports the statement type."""
        from google.cloud import bigquery

        dry = bigquery.QueryJobConfig.from_api_repr(config.to_api_repr())
        dry.dry_run, dry.use_query_cache = True, False
        kind = self.client.query(sql, job_config=dry).statement_type
        if kind != "SELECT":
            raise ReadOnly(
                f"the warehouse is open read-only here: BigQuery reports this statement as "
                f"{kind or 'unknown'}, and only SELECT runs"
            )

    def modified(self, table: str) -> str | None:
        """The table's last modification time, from its metadata (free: no query job)."""
        from google.api_core import exceptions

        try:
            found = self.client.get_table(self._table_id(schemas.table(table)))
        except (exceptions.ServerError, exceptions.TooManyRequests, ConnectionError) as e:
            raise WarehouseUnavailable(f"BigQuery table {table} unreadable: {e}") from e
        return found.modified.isoformat() if found.modified else None


def _parameters(params: Mapping[str, Any]) -> list:
    """Named query parameters, typed from the Python values."""
    from google.cloud import bigquery

    def kind(value: Any) -> str:
        if isinstance(value, list) and value:
            return kind(value[0])
        for python_type, name in (
            (bool, "BOOL"),
            (int, "INT64"),
            (float, "FLOAT64"),
            (str, "STRING"),
            (datetime, "TIMESTAMP"),
            (date, "DATE"),
        ):
            if isinstance(value, python_type):
                return name
        raise TypeError(f"no BigQuery parameter type for {type(value).__name__}")

    return [
        bigquery.ArrayQueryParameter(name, kind(value), value)
        if isinstance(value, list)
        else bigquery.ScalarQueryParameter(name, kind(value), value)
        for name, value in params.items()
    ]
