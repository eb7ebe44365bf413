"""The errors every entry point maps, defined once.

- ``Retry``: a transient failure (a service down, a timeout, a file locked). A CloudEvent
  function raises it so Pub/Sub redelivers; an HTTP function answers 503.
- ``Drop``: the input can never succeed (malformed, refused by a downstream service). A
  CloudEvent function logs and acknowledges it; an HTTP function answers 4xx.
- ``ConfigError``: the operator's settings are wrong. Neither: it is raised, so messages
  wait (and are retried) until the setting is fixed, and the message names the variable.
"""

from __future__ import annotations


class Retry(RuntimeError):
    """Try again later: nothing about the input is wrong."""


class Drop(ValueError):
    """The input cannot succeed however often it is retried; the message says why."""


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""
