"""Enough of BigQuery's REST API, on loopback, to drive the real google-cloud-bigquery client.

It keeps what a test needs to check: datasets and tables created (schema, partitioning,
clustering, view SQL), rows streamed with their insertIds, load jobs with their data,
and queries with their job configuration. Query answers are what the test tells it.

Every statement it receives is judged as BigQuery would judge it, by Google's own
analyzer (``googlesql``) over the tables and views it holds, with the parameters as
typed: a view, query, merge, script or export BigQuery would refuse is answered 400 with
the analyzer's message, and kept in ``refused``.
"""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from typing import Any

from binderops.warehouse import schemas

from .http import Request, Response

BQ = "/bigquery/v2/projects/(?P<project>[^/]+)"


class FakeBigQuery:
    def __init__(self) -> None:
        self.datasets: dict[str, dict] = {}
        self.tables: dict[str, dict] = {}
        self.inserted: dict[str, list[dict]] = {}
        self.loads: list[dict] = []
        self.queries: list[dict] = []
        self.deleted: list[str] = []
        self.metadata_reads: list[str] = []  # tables whose metadata was read (GET)
        self.jobs: dict[str, dict] = {}
        # What the next queries answer: (schema fields, rows as lists of strings), and DML counts.
        self.answers: list[tuple[list[dict], list[list[Any]]]] = []
        self.dml_affected = "0"
        # What the next dry runs report each statement as (then SELECT); the jobs they got.
        self.statement_types: list[str] = []
        self.dry_runs: list[dict] = []
        # Every table's columns, by project.dataset.table, as the analyzer needs them: REST
        # fields of tables made or loaded, a view's analysed output, tables outside binderops
        # (the billing export) that a test adds with ``external``.
        self.columns: dict[str, list] = {}
        self.refused: list[str] = []
        # Errors the next queries answer instead: (HTTP status, BigQuery's error reason).
        self.query_errors: list[tuple[int, str]] = []

    def external(self, name: str, fields: list[dict], partitioned: bool = False) -> None:
        """A table binderops reads but does not make (``project.dataset.table``); an
        ingestion-time partitioned one has BigQuery's ``_PARTITIONTIME`` pseudo-column."""
        pseudo = [{"name": "_PARTITIONTIME", "type": "TIMESTAMP"}] if partitioned else []
        self.columns[name] = [*fields, *pseudo]

    def made_by_setup(self, project: str, dataset: str) -> None:
        """The tables and views ``BigQueryWarehouse.setup`` makes in ``dataset`` (and its
        ``_raw`` twin), as if it had run: for tests of what comes after."""
        from googlesql import judge

        datasets = {"public": dataset, "raw": f"{dataset}_raw"}
        names = {kind: f"`{project}`.`{name}`" for kind, name in datasets.items()}
        tables, views = schemas.catalog()
        for table in tables.values():
            fields = [{"name": c.name, "type": c.type, "mode": c.mode} for c in table.columns]
            self.columns[f"{project}.{datasets[table.dataset]}.{table.name}"] = fields
        for view in views.values():
            query = view.render(names)
            self.columns[f"{project}.{datasets[view.dataset]}.{view.name}"] = judge().output(
                query, self.columns, f"{project}.{dataset}"
            )

    def _judged(self, sql: str, config: dict) -> Response | None:
        """BigQuery's 400 for ``sql``, or None when Google's analyzer accepts it."""
        from googlesql import judge

        default = config.get("defaultDataset") or {}
        declared = schemas.read_json("sql/parameters.json")["parameters"]
        for parameter in config.get("queryParameters", []):
            sent, name = _declared(parameter["parameterType"]), parameter["name"]
            if name in declared and sent != declared[name]:
                problem = (
                    f"@{name} sent as {sent}; schemas/sql/parameters.json declares {declared[name]}"
                )
                self.refused.append(problem)
                return Response(400, {"error": {"code": 400, "message": problem}})
        found = judge().problems(
            sql,
            self.columns,
            config.get("queryParameters", []),
            f"{default.get('projectId', '')}.{default.get('datasetId', '')}",
        )
        if not found:
            return None
        self.refused.append(f"{found[0]} in: {sql}")
        error = {"code": 400, "message": found[0], "errors": [{"reason": "invalidQuery"}]}
        return Response(400, {"error": error})

    def __call__(self, request: Request) -> Response:
        path, method = request.path, request.method
        if m := re.fullmatch(BQ + "/datasets", path):
            body = request.json()
            ref = body["datasetReference"]
            self.datasets[f"{ref['projectId']}.{ref['datasetId']}"] = body
            return Response(200, body)
        if m := re.fullmatch(BQ + "/datasets/(?P<dataset>[^/]+)/tables", path):
            body = request.json()
            ref = body["tableReference"]
            name = f"{ref['projectId']}.{ref['datasetId']}.{ref['tableId']}"
            if "view" in body:  # BigQuery analyses a view when it is made
                from googlesql import judge

                default = f"{ref['projectId']}.{ref['datasetId']}"
                refusal = self._judged(body["view"]["query"], {})
                if refusal is not None:
                    return refusal
                self.columns[name] = judge().output(body["view"]["query"], self.columns, default)
            else:
                self.columns[name] = body["schema"]["fields"]
            self.tables[name] = body
            return Response(200, body)
        if m := re.fullmatch(
            BQ + "/datasets/(?P<dataset>[^/]+)/tables/(?P<table>[^/]+)/insertAll", path
        ):
            key = f"{m['project']}.{m['dataset']}.{m['table']}"
            self.inserted.setdefault(key, []).extend(request.json()["rows"])
            return Response(200, {"kind": "bigquery#tableDataInsertAllResponse"})
        if m := re.fullmatch(BQ + "/datasets/(?P<dataset>[^/]+)/tables/(?P<table>[^/]+)", path):
            key = f"{m['project']}.{m['dataset']}.{m['table']}"
            if method == "GET":
                self.metadata_reads.append(key)
                return Response(200, self.tables[key])
            assert method == "DELETE", f"unexpected {method} {path}"
            self.deleted.append(key)
            return Response(204)
        if m := re.fullmatch("/upload" + BQ + "/jobs", path):
            return self._upload(request, m["project"])
        if m := re.fullmatch(BQ + "/jobs", path):
            job = request.json()
            query = job["configuration"]["query"]
            if refusal := self._judged(query["query"], query):
                return refusal
            if job["configuration"].get("dryRun"):
                return Response(200, self._dry_run(m["project"], job))
            self.queries.append(query)
            return Response(200, self._job(m["project"], job, dml=True))
        if m := re.fullmatch(BQ + "/jobs/(?P<job>[^/]+)", path):
            return Response(200, self.jobs[m["job"]])
        if m := re.fullmatch(BQ + "/queries/(?P<job>[^/]+)", path):
            job = self.jobs[m["job"]]
            return Response(
                200,
                {
                    "jobReference": job["jobReference"],
                    "jobComplete": True,
                    "totalRows": "0",
                    "schema": {"fields": []},
                    "numDmlAffectedRows": self.dml_affected,
                },
            )
        if m := re.fullmatch(BQ + "/queries", path):
            body = request.json()
            if refusal := self._judged(body["query"], body):
                return refusal
            self.queries.append(body)
            if self.query_errors:
                status, reason = self.query_errors.pop(0)
                error = {"code": status, "message": reason, "errors": [{"reason": reason}]}
                return Response(status, {"error": error})
            fields, rows = self.answers.pop(0) if self.answers else ([], [])
            return Response(
                200,
                {
                    "jobComplete": True,
                    "jobReference": {
                        "projectId": m["project"],
                        "jobId": f"job{len(self.queries)}",
                        "location": "US",
                    },
                    "schema": {"fields": fields},
                    "rows": [{"f": [{"v": v} for v in row]} for row in rows],
                    "totalRows": str(len(rows)),
                },
            )
        raise AssertionError(f"unexpected {method} {path}")

    def _job(self, project: str, job: dict, dml: bool = False) -> dict:
        job_id = job.get("jobReference", {}).get("jobId") or f"job{len(self.jobs)}"
        job = {
            **job,
            "jobReference": {"projectId": project, "jobId": job_id, "location": "US"},
            "status": {"state": "DONE"},
        }
        if dml:
            job["statistics"] = {
                "query": {"numDmlAffectedRows": self.dml_affected, "statementType": "MERGE"}
            }
        self.jobs[job_id] = job
        return job

    def _dry_run(self, project: str, job: dict) -> dict:
        """A dry run plans the job without running it: DONE at once, with its statement type."""
        query = job["configuration"]["query"]
        assert query.get("useQueryCache") is False and query.get("useLegacySql") is False, query
        self.dry_runs.append(query)
        kind = self.statement_types.pop(0) if self.statement_types else "SELECT"
        return {
            **job,
            "jobReference": {"projectId": project, "location": "US"},
            "status": {"state": "DONE"},
            "statistics": {"query": {"statementType": kind, "totalBytesProcessed": "0"}},
        }

    def _upload(self, request: Request, project: str) -> Response:
        assert request.query.get("uploadType") == ["multipart"], request.query
        message = message_from_bytes(
            b"Content-Type: "
            + request.headers["content-type"].encode()
            + b"\r\n\r\n"
            + request.body
        )
        metadata, data = (part.get_payload(decode=True) for part in message.get_payload())
        job = json.loads(metadata)
        load = job["configuration"]["load"]
        ref = load["destinationTable"]
        self.columns[f"{ref['projectId']}.{ref['datasetId']}.{ref['tableId']}"] = load["schema"][
            "fields"
        ]
        rows = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        self.loads.append({"configuration": job["configuration"], "rows": rows})
        return Response(200, self._job(project, job))


def _declared(sent: dict) -> str:
    """A REST ``parameterType`` as ``schemas/sql/parameters.json`` writes types."""
    if sent["type"] == "ARRAY":
        return f"ARRAY<{_declared(sent['arrayType'])}>"
    return sent["type"]
