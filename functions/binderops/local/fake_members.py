"""Fake BinderHub members on loopback, for the sample stack and the tests: real HTTP,
answering ``/health``, ``/versions`` and ``/metrics`` in BinderHub's shapes, the metrics
written by prometheus_client itself.

Each member has a ``mode``: ``healthy``; ``flapping`` (every other ``/health`` fails);
``drifted`` (healthy, another BinderHub version); ``down`` (503, the JupyterHub check
failing); ``silent`` (no answer until the prober gives up). ``launch()`` records launches
in its metrics, ``restart()`` zeroes them as a restarted pod would.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Histogram, generate_latest

VERSIONS = {"binderhub": "1.0.0.dev123", "builder": "quay.io/jupyterhub/repo2docker:2025.08.0"}
DRIFTED = {**VERSIONS, "binderhub": "0.9.0"}
MODES = ("healthy", "flapping", "drifted", "down", "silent")


class FakeMember:
    def __init__(self, name: str, mode: str = "healthy", quota: int | None = 300) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.name, self.mode, self.quota = name, mode, quota
        self.asked = 0
        self._lock = threading.Lock()
        self.restart()
        member = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                member.answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeMember:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def restart(self) -> None:
        """A restarted pod: its counters start from zero."""
        self.registry = CollectorRegistry()
        self.launch_time = Histogram(
            "binderhub_launch_time_seconds",
            "Histogram of launch times",
            ["status", "retries"],
            registry=self.registry,
        )

    def launch(self, status: str = "success", n: int = 1, retries: int = 0) -> None:
        for _ in range(n):
            self.launch_time.labels(status, str(retries if status == "success" else -1)).observe(3)

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?")[0]
        if self.mode == "silent":
            time.sleep(30)  # longer than any probe waits
            return
        if path == "/health":
            with self._lock:
                self.asked += 1
                failing = self.mode == "down" or (self.mode == "flapping" and self.asked % 2 == 0)
            checks = [
                {"service": "Docker registry", "ok": True},
                {"service": "JupyterHub API", "ok": not failing},
                {
                    "service": "Pod quota",
                    "total_pods": 143,
                    "build_pods": 4,
                    "user_pods": 139,
                    "quota": self.quota,
                    "ok": True,
                    "_ignore_failure": True,
                },
            ]
            self._send(request, 503 if failing else 200, {"ok": not failing, "checks": checks})
        elif path == "/versions":
            versions = DRIFTED if self.mode == "drifted" else VERSIONS
            self._send(
                request, 200, {"builder_info": {"build_image": versions["builder"]}, **versions}
            )
        elif path == "/metrics":
            body = generate_latest(self.registry)
            request.send_response(200)
            request.send_header("Content-Type", "text/plain; version=0.0.4")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        else:
            self._send(request, 404, {"message": "not found"})

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, document: dict) -> None:
        body = json.dumps(document).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
