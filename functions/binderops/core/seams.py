"""Seams a capability is handed by its caller, typed here so that one capability never
imports another to name what it is given: a metric recorder (``metrics.Recorder``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class MetricsRecorder(Protocol):
    """Counts and gauges of the instance (``metrics.Recorder`` is one)."""

    def add(self, name: str, labels: Mapping[str, Any], amount: float = 1) -> None: ...

    def set(self, name: str, labels: Mapping[str, Any], value: float) -> None: ...

    def write(self) -> None: ...
