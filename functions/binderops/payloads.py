"""Reading JSON from outside (webhooks, Pub/Sub messages) without assuming its shape.

A payload is checked, never trusted to be what its sender documents: a value of the wrong
type reads as missing, so malformed input is answered (4xx) or acknowledged, never a 5xx.
"""

from __future__ import annotations


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
