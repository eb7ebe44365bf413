"""Publish BinderHub's launch events straight to Pub/Sub from BinderHub itself.

BinderHub's ``EventLog`` logs each event as a dict through the handlers its
``handlers_maker`` returns; this handler publishes each one, batched, with a unique
``event_id`` attribute so a publish retried by the client is stored once::

    from binderops.launches.binderhub import PubSubHandler
    c.EventLog.handlers_maker = lambda el: [PubSubHandler("my-project", "launch-events")]
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import uuid
from concurrent.futures import Future, wait


class PubSubHandler(logging.Handler):
    """A ``logging.Handler`` that publishes each record's event to a Pub/Sub topic."""

    def __init__(
        self,
        project: str,
        topic: str,
        publisher=None,
        max_latency: float = 0.5,
        level: int = logging.INFO,
    ):
        super().__init__(level)
        if publisher is None:
            from google.cloud import pubsub_v1

            publisher = pubsub_v1.PublisherClient(
                batch_settings=pubsub_v1.types.BatchSettings(
                    max_messages=100, max_latency=max_latency
                )
            )
        self.publisher = publisher
        self.topic = publisher.topic_path(project, topic)
        self._pending: set[Future] = set()
        self._pending_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event = record.msg if isinstance(record.msg, dict) else json.loads(self.format(record))
            future = self.publisher.publish(
                self.topic, json.dumps(event).encode(), event_id=str(uuid.uuid4())
            )
        except Exception:
            self.handleError(record)
            return
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        with self._pending_lock:
            self._pending.discard(future)
        if future.exception() is not None:
            # Never raise into BinderHub's request path; say what was lost.
            print(
                f"binderops: a launch event was not published to {self.topic}: {future.exception()}",
                file=sys.stderr,
            )

    def flush(self, timeout: float = 30) -> None:
        """Wait until every event handed over so far is published (or failed)."""
        with self._pending_lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)

    def close(self) -> None:
        self.flush()
        super().close()
