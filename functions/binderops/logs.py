"""Logging for the functions: one JSON object per line on Cloud Run (which reads its
``severity``), plain text on a terminal."""

from __future__ import annotations

import json
import logging
import os
import sys


log = logging.getLogger("binderops")


class CloudJsonFormatter(logging.Formatter):
    """Cloud Logging's structured format: ``severity``, ``message`` and the logger's name."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"severity": record.levelname, "message": record.getMessage(), "logger": record.name}
        if record.exc_info:
            entry["message"] += "\n" + self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup(env: dict[str, str] | None = None) -> None:
    """Send ``binderops`` logs (INFO and up) to stderr, as JSON when running on Cloud Run."""
    env = os.environ if env is None else env
    logger = logging.getLogger("binderops")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    on_cloud_run = "K_SERVICE" in env
    handler.setFormatter(CloudJsonFormatter() if on_cloud_run else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
