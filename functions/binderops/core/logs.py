"""Logging for the functions: one JSON object per line on Cloud Run (which reads its
``severity``), plain text on a terminal."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping

log = logging.getLogger("binderops")


class CloudJsonFormatter(logging.Formatter):
    """Cloud Logging's structured format: ``severity``, ``message`` and the logger's name."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        kind = getattr(record, "kind", None)
        if kind:  # an error's machine-readable kind (``errors``), for log-based metrics
            entry["kind"] = kind
        if record.exc_info:
            entry["message"] += "\n" + self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a record is written, not as it was at set-up
    (whatever replaces it later — a test runner's capture, a host's redirection — gets the logs)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup(env: Mapping[str, str] | None = None) -> None:
    """Send ``binderops`` logs (INFO and up) to stderr, as JSON when running on Cloud Run."""
    env = os.environ if env is None else env
    logger = logging.getLogger("binderops")
    if logger.handlers:
        return
    handler = StderrHandler()
    on_cloud_run = "K_SERVICE" in env
    handler.setFormatter(
        CloudJsonFormatter()
        if on_cloud_run
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
