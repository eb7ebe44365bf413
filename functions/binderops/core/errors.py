"""The errors binderops raises, defined once: one root, and the kinds the platform tells apart.

- ``Retry``: a transient failure (a service down, a timeout, a file locked). A CloudEvent
  function raises it so Pub/Sub redelivers; an HTTP function answers 503.
- ``Drop``: the input can never succeed (malformed, refused by a downstream service). A
  CloudEvent function logs and acknowledges it; an HTTP function answers 4xx.
- ``ConfigError``: the operator's settings are wrong. Neither: it is raised, so messages
  wait (and are retried) until the setting is fixed, and the message names the variable.

Every other error is a subclass of one of them. Each carries a ``kind``: a short word for
machines (a metric's label, a structured log's field), so that rewording a message for
people never changes what a dashboard counts.
"""

from __future__ import annotations


class BinderopsError(Exception):
    """The root of every error binderops raises on purpose."""

    kind = "error"

    def __init__(self, message: str = "", *, kind: str = "") -> None:
        super().__init__(message)
        if kind:
            self.kind = kind


class Retry(BinderopsError, RuntimeError):
    """Try again later: nothing about the input is wrong."""

    kind = "unavailable"


class Drop(BinderopsError, ValueError):
    """The input cannot succeed however often it is retried; the message says why."""

    kind = "invalid"


class ConfigError(BinderopsError, ValueError):
    """A setting is missing or malformed; the message names the variable."""

    kind = "config"
