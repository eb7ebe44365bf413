"""Where metric points go: Cloud Monitoring (google-cloud-monitoring, over gRPC) or the
warehouse's ``metrics`` table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlparse

from ..clients.http import google_endpoint
from ..warehouse import Warehouse
from . import Point

# create_time_series takes at most 200 series per call.
SERIES_PER_CALL = 200


class MonitoringSink:
    """Each point as a series of the ``generic_task`` resource: one task per instance, so
    instances' cumulative counts never collide (alerts and charts sum over task_id)."""

    def __init__(self, project: str, region: str, service: str, api_url: str = "") -> None:
        self.project, self.region, self.service, self.api_url = project, region, service, api_url
        self._client = None

    @property
    def client(self):
        """The client, made on first write. google-cloud-monitoring speaks gRPC only: a
        loopback ``api_url`` (a test server) gets a plain-text channel, nothing to sign."""
        if self._client is None:
            from google.cloud import monitoring_v3

            credentials, options = google_endpoint(self.api_url)
            if credentials is not None:  # loopback
                import grpc
                from google.cloud.monitoring_v3.services.metric_service import transports

                channel = grpc.insecure_channel(urlparse(self.api_url).netloc)
                transport = transports.MetricServiceGrpcTransport(channel=channel)
                self._client = monitoring_v3.MetricServiceClient(transport=transport)
            else:
                options = {"api_endpoint": urlparse(self.api_url).netloc} if self.api_url else {}
                self._client = monitoring_v3.MetricServiceClient(client_options=options)
        return self._client

    def write(self, points: Sequence[Point], instance: str) -> None:
        from google.cloud import monitoring_v3

        resource = {
            "type": "generic_task",
            "labels": {
                "project_id": self.project,
                "location": self.region,
                "namespace": "binderops",
                "job": self.service,
                "task_id": instance,
            },
        }
        series = []
        for point in points:
            integer = point.metric.value_type == "INT64"
            interval = {"end_time": _stamp(point.end)}
            if point.start is not None:
                interval["start_time"] = _stamp(point.start)
            value = {"int64_value": int(point.value)} if integer else {"double_value": point.value}
            series.append(
                monitoring_v3.TimeSeries(
                    metric={"type": point.metric.type, "labels": dict(point.labels)},
                    resource=resource,
                    metric_kind=point.metric.kind,
                    value_type=point.metric.value_type,
                    points=[{"interval": interval, "value": value}],
                )
            )
        for start in range(0, len(series), SERIES_PER_CALL):
            self.client.create_time_series(
                name=f"projects/{self.project}",
                time_series=series[start : start + SERIES_PER_CALL],
                timeout=10,
            )


def _stamp(when: datetime) -> dict:
    seconds = int(when.timestamp())
    return {"seconds": seconds, "nanos": int((when.timestamp() - seconds) * 1e9)}


def labels_json(labels: tuple[tuple[str, str], ...]) -> str:
    return json.dumps(dict(labels), sort_keys=True)


class MetricRow(NamedTuple):
    """A row of ``metrics`` (``schemas/bigquery/metrics.json``)."""

    time: datetime
    metric: str
    labels: str
    value: float
    start_time: datetime | None
    instance: str


class WarehouseSink:
    """Rows of ``metrics``, where BINDEROPS_METRICS=warehouse keeps them on one machine."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def write(self, points: Sequence[Point], instance: str) -> None:
        rows = [
            MetricRow(
                p.end, p.metric.name, labels_json(p.labels), float(p.value), p.start, instance
            )
            for p in points
        ]
        self.warehouse.insert("metrics", rows)
