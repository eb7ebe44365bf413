"""Operational metrics: counted in the instance, written at most once a minute per series.

Cloud Monitoring takes one point per time series every few seconds at most, and a write per
launch would cost more than the launch. So each instance keeps its series in memory — a
count since the instance started (CUMULATIVE) or a latest value (GAUGE) — and writes every
series that changed in one batched call when a minute has passed since the last write,
during whichever request notices, and once more at a clean shutdown. Metrics are named and
typed once, in ``schemas/metrics.json``.
"""

from __future__ import annotations

import atexit
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

from ..core.logs import log
from ..warehouse import schemas

PREFIX = "custom.googleapis.com/binderops/"
INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # CUMULATIVE or GAUGE
    value_type: str  # INT64 or DOUBLE
    unit: str
    description: str
    labels: tuple[str, ...]

    @property
    def type(self) -> str:
        return PREFIX + self.name


@cache
def catalog() -> dict[str, Metric]:
    """The metrics of ``schemas/metrics.json``."""
    document = schemas.read_json("metrics.json")
    return {
        name: Metric(
            name,
            spec["kind"],
            spec["value_type"],
            spec["unit"],
            spec["description"],
            tuple(spec["labels"]),
        )
        for name, spec in document.items()
        if not name.startswith("_")
    }


@dataclass(frozen=True)
class Point:
    """One series' value at ``end`` (since ``start`` for a cumulative series)."""

    metric: Metric
    labels: tuple[tuple[str, str], ...]
    value: float
    start: datetime | None
    end: datetime


class Sink(Protocol):
    def write(self, points: Sequence[Point], instance: str) -> None:
        """Write the points (one per series) in as few calls as the back end allows."""


class Recorder:
    """An instance's series. ``add`` counts, ``set`` sets a gauge; both may write."""

    def __init__(
        self,
        sink: Sink | None,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sink = sink
        self.interval = interval
        self.clock = clock
        self.instance = uuid.uuid4().hex[:16]
        self.started = datetime.fromtimestamp(clock(), UTC)
        self._values: dict[tuple[str, tuple], float] = {}
        self._changed: set[tuple[str, tuple]] = set()
        self._last_write = float("-inf")
        self._lock = threading.Lock()
        self.writes = 0

    def _key(self, name: str, labels: Mapping[str, Any]) -> tuple[str, tuple]:
        metric = catalog()[name]  # a KeyError here is a bug: every metric is in the catalog
        if set(labels) != set(metric.labels):
            raise ValueError(f"{name} takes the labels {metric.labels}, got {sorted(labels)}")
        return name, tuple(sorted((k, str(v)) for k, v in labels.items()))

    def add(self, name: str, labels: Mapping[str, Any], amount: float = 1) -> None:
        if self.sink is None:
            return
        key = self._key(name, labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + amount
            self._changed.add(key)
        self.write_if_due()

    def set(self, name: str, labels: Mapping[str, Any], value: float) -> None:
        if self.sink is None:
            return
        key = self._key(name, labels)
        with self._lock:
            self._values[key] = value
            self._changed.add(key)
        self.write_if_due()

    def write_if_due(self) -> None:
        if self.clock() - self._last_write >= self.interval:
            self.write()

    def write(self) -> None:
        """Write every series that changed since the last write, now.

        A failed write is logged and its series kept for the next one: metrics never fail
        the request that records them.
        """
        sink = self.sink
        if sink is None:
            return
        with self._lock:
            if not self._changed:
                return
            now = self.clock()
            end = datetime.fromtimestamp(now, UTC)
            points = []
            for key in sorted(self._changed):
                metric = catalog()[key[0]]
                start = self.started if metric.kind == "CUMULATIVE" else None
                points.append(Point(metric, key[1], self._values[key], start, end))
            self._changed.clear()
            self._last_write = now
        try:
            sink.write(points, self.instance)
            self.writes += 1
        except Exception as e:  # never fail a launch over a metric
            log.warning(
                "metrics: %d series not written (kept for the next write): %s", len(points), e
            )
            with self._lock:
                self._changed.update((p.metric.name, p.labels) for p in points)


def shutdown_write(recorder: Recorder) -> None:
    """What a clean shutdown does: write what is pending, whatever the minute."""
    atexit.register(recorder.write)
