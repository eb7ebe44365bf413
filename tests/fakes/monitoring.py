"""Cloud Monitoring's MetricService.CreateTimeSeries over gRPC on 127.0.0.1, for the real
google-cloud-monitoring client (which speaks gRPC only); it checks each call and keeps its
series, as JSON (camelCase, 64-bit integers as strings), for the test to check."""

from __future__ import annotations

from concurrent import futures

import grpc
from google.cloud.monitoring_v3.types import CreateTimeSeriesRequest
from google.protobuf import empty_pb2
from google.protobuf.json_format import MessageToDict


class FakeMonitoring:
    def __init__(self, fail: int = 0) -> None:
        self.calls: list[list[dict]] = []
        self.names: list[str] = []
        self.fail = fail  # answer this many calls UNAVAILABLE first
        self.server = None
        self.url = ""

    @property
    def series(self) -> list[dict]:
        return [s for call in self.calls for s in call]

    def _create(self, request, context):
        if self.fail:
            self.fail -= 1
            context.abort(grpc.StatusCode.UNAVAILABLE, "unavailable")
        body = MessageToDict(request)
        assert set(body) == {"name", "timeSeries"}, body
        assert 0 < len(body["timeSeries"]) <= 200
        self.names.append(body["name"])
        self.calls.append(body["timeSeries"])
        return empty_pb2.Empty()

    def __enter__(self) -> FakeMonitoring:
        handler = grpc.method_handlers_generic_handler(
            "google.monitoring.v3.MetricService",
            {
                "CreateTimeSeries": grpc.unary_unary_rpc_method_handler(
                    self._create,
                    request_deserializer=CreateTimeSeriesRequest.pb().FromString,
                    response_serializer=empty_pb2.Empty.SerializeToString,
                )
            },
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((handler,))
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop(grace=None)
