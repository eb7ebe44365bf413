"""Publish BinderHub's launch events straight to Pub/Sub from BinderHub itself.

BinderHub's ``EventLog`` logs each event as a dict through the handlers its
``handlers_maker`` returns; this handler publishes each one, batched, with a unique
``event_id`` attribute so a publish retried by the client is stored once::

    from .binderhub import PubSubHandler
    c.EventLog.handlers_maker = lambda el: [PubSubHandler("my-project", "launch-events")]

It never holds BinderHub up: a publish is given ``timeout`` seconds (5 by default) in all,
retries included, and BinderHub's exit waits at most that long for what is still pending.
A launch that could not be published is logged (logger ``binderops.binderhub``, ERROR) as
soon as the client gives up on it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import Future, wait

log = logging.getLogger("binderops.binderhub")


class PubSubHandler(logging.Handler):
    """A ``logging.Handler`` that publishes each record's event to a Pub/Sub topic."""

    def __init__(
        self,
        project: str,
        topic: str,
        publisher=None,
        max_latency: float = 0.5,
        level: int = logging.INFO,
        timeout: float = 5.0,
    ):
        super().__init__(level)
        self.timeout = timeout
        if publisher is None:
            from google.api_core.retry import Retry
            from google.cloud import pubsub_v1

            publisher = pubsub_v1.PublisherClient(
                batch_settings=pubsub_v1.types.BatchSettings(
                    max_messages=100, max_latency=max_latency
                ),
                # The client's own default keeps retrying for 600 s; a launch is not worth that.
                publisher_options=pubsub_v1.types.PublisherOptions(
                    retry=Retry(initial=0.1, maximum=1.0, timeout=timeout), timeout=timeout
                ),
            )
        self.publisher = publisher
        self.topic = publisher.topic_path(project, topic)
        self._pending: set[Future] = set()
        self._pending_lock = threading.Lock()
        self._closed = False

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
        problem = future.exception()
        if problem is not None:
            # Never raise into BinderHub's request path; say what was lost, at once.
            log.error(
                "a launch event was not published to %s: %s", self.topic, type(problem).__name__
            )

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every event handed over so far is published or given up on, for at
        most ``timeout`` seconds (the handler's own timeout by default)."""
        with self._pending_lock:
            pending = list(self._pending)
        if pending:
            wait(pending, timeout=self.timeout if timeout is None else timeout)

    def close(self) -> None:
        """At exit: one bounded wait for what is pending (logging calls flush, then close,
        and this waits only for what time is left), then the client stops batching."""
        if not self._closed:
            self._closed = True
            deadline = time.monotonic() + self.timeout
            self.flush(timeout=self.timeout)
            with self._pending_lock:
                lost = len(self._pending)
            if lost:
                log.error(
                    "%d launch event(s) still unpublished to %s at exit; given up", lost, self.topic
                )
            stopper = threading.Thread(target=self.publisher.stop, daemon=True)
            stopper.start()
            stopper.join(max(0.0, deadline - time.monotonic()))
        super().close()
