"""Enough of BigQuery's REST API, on loopback, to drive the real google-cloud-bigquery client.

It keeps what a test needs to check: datasets and tables created (schema, partitioning,
clustering, view SQL), rows streamed with their insertIds, load jobs with their data,
and queries with their job configuration. Query answers are what the test tells it.
"""

from __future__ import annotations

import json
import re
from email import message_from_bytes
from typing import Any

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
        # Errors the next queries answer instead: (HTTP status, BigQuery's error reason).
        self.query_errors: list[tuple[int, str]] = []

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
            self.tables[f"{ref['projectId']}.{ref['datasetId']}.{ref['tableId']}"] = body
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
            if job["configuration"].get("dryRun"):
                return Response(200, self._dry_run(m["project"], job))
            self.queries.append(job["configuration"]["query"])
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
        rows = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        self.loads.append({"configuration": job["configuration"], "rows": rows})
        return Response(200, self._job(project, job))
