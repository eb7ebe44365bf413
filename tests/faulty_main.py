"""``ingest_launch`` over a warehouse that fails one write in five, for the fault tests.

Served by functions-framework exactly as ``functions/main.py`` is; only the warehouse is
wrapped. Half the failures happen before the write and half after it (the row is stored
but the function still fails), the two ways a real transient failure can fall.
"""

import itertools
import threading

import functions_framework
from cloudevents.http import CloudEvent

from binderops import instance
from binderops.launches.ingest import ingest_delivery
from binderops.launches.settings import LaunchSettings
from binderops.warehouse import WarehouseUnavailable


class FlakyWarehouse:
    def __init__(self, inner, every: int = 5) -> None:
        self.inner = inner
        self.every = every
        self._count = itertools.count(1)
        self._lock = threading.Lock()

    def insert(self, table, rows):
        with self._lock:
            n = next(self._count)
        if n % self.every == 0 and n % (2 * self.every) != 0:
            raise WarehouseUnavailable(f"injected failure before write {n}")
        self.inner.insert(table, rows)
        if n % (2 * self.every) == 0:
            raise WarehouseUnavailable(f"injected failure after write {n}")


_flaky = None


@functions_framework.cloud_event
def ingest_launch(cloud_event: CloudEvent) -> None:
    global _flaky
    if _flaky is None:
        _flaky = FlakyWarehouse(instance.warehouse())
    ingest_delivery(
        cloud_event.get_data(), cloud_event["id"], _flaky, instance.settings(LaunchSettings)
    )
