"""Reading JSON from outside (webhooks, Pub/Sub messages) without assuming its shape.

A payload is checked, never trusted to be what its sender documents: a value of the wrong
type reads as missing, so malformed input is answered (4xx) or acknowledged, never a 5xx.
Every JSON text from outside is parsed by ``json_value``, whose depth is bounded.
"""

from __future__ import annotations

from typing import Any

import orjson

from .errors import Drop

# Deeper than anything binderops reads (a GitHub webhook nests about 6 levels, a Monitoring
# notification 4, a Build resource 4). Python's own json fails with RecursionError past about
# a thousand levels, a 500 that a sender (and Pub/Sub) retries forever: never used here.
MAX_DEPTH = 64


class TooDeep(Drop):
    """JSON nested deeper than ``MAX_DEPTH``: refused like JSON that does not parse."""

    kind = "too_deep"


def json_value(text: bytes | bytearray | memoryview | str) -> Any:
    """The JSON value in ``text``, nested at most ``MAX_DEPTH`` deep. Raises ValueError
    (orjson's JSONDecodeError, or TooDeep) for anything else: orjson parses in C and
    refuses past 1,024 levels itself; the walk below refuses past ``MAX_DEPTH``."""
    value = orjson.loads(text)
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        node, depth = level.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels")
        level.extend((child, depth + 1) for child in children)
    return value


def at(document: object, *keys: str) -> object:
    """The value at ``keys`` in nested objects, or None where any step is not an object."""
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def text(document: object, *keys: str) -> str:
    """The string at ``keys``, or "" where there is none."""
    value = at(document, *keys)
    return value if isinstance(value, str) else ""


def mapping(document: object, *keys: str) -> dict:
    """The object at ``keys``, or {} where there is none."""
    value = at(document, *keys)
    return value if isinstance(value, dict) else {}
