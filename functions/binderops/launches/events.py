"""BinderHub launch events: decode, validate against their own schema version, normalise.

A launch becomes one row of ``launches``; anything that cannot become one becomes one row
of ``launch_errors`` with a reason. Nothing outside the event's schema is ever stored, the
timestamp is truncated to the minute, and what may be private in the spec and the request's
origin is removed first (``privacy``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, NamedTuple, TypeGuard

from fastjsonschema import JsonSchemaValueException

from ..core.errors import Drop
from ..core.payloads import json_value
from ..warehouse import schemas
from .privacy import SUSPECT, public_origin, public_spec
from .specs import split_spec

LAUNCH_SCHEMA = "binderhub.jupyter.org/launch"
ERROR_PAYLOAD_BYTES = 64 * 1024
_make_row = tuple.__new__
# Clock skew we tolerate before calling a timestamp bogus.
FUTURE_SKEW = timedelta(days=1)

# An IPv4 address (and its port), glued to text or not; ipaddress decides which are addresses.
_IPV4 = re.compile(r"(?<![0-9.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?![0-9])(:[0-9]{1,5})?")
# Runs an IPv6 address may hide in (two colons at least); glued hex letters are tried off.
_IPV6_RUN = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")
# What a cut may leave of an address at the end of a text.
_ADDRESS_TAIL = re.compile(r"[0-9A-Fa-f:.]+\Z")


class InvalidEvent(Drop):
    """The message cannot become a launch row; the text says why, ``kind`` says it for the
    ``rejected_launches`` metric: too_large, base64, json, log_entry, version, schema,
    timestamp or other."""

    kind = "other"


class LaunchRow(NamedTuple):
    """A row of ``launches`` (``schemas/bigquery/launches.json``; a test holds them equal).

    A named tuple rather than a dataclass: backfill makes millions, and the warehouse
    hands them to DuckDB and Arrow as they are.
    """

    event_id: str
    timestamp: datetime
    schema_version: int
    provider: str | None
    spec: str | None
    repo: str
    ref: str
    resolved_ref: str
    status: str | None
    origin: str | None
    build_token: bool | None
    request_origin: str | None
    ingested_at: datetime


class LaunchErrorRow(NamedTuple):
    """A row of ``launch_errors``: a message that could not become a launch, and why."""

    event_id: str
    received_at: datetime
    reason: str
    payload: str


@cache
def _validators() -> dict[int, Any]:
    """The compiled validator of each schema version, built once per instance.

    Built whole before it is cached, so a thread never sees some versions missing (two
    first requests at once may both compile; both get complete results). Formats are not
    checked by the validators because the schema's one format, the timestamp's date-time,
    is parsed strictly below.
    """
    import fastjsonschema

    return {
        v: fastjsonschema.compile(s, use_formats=False)
        for v, s in schemas.launch_event_schemas().items()
    }


@lru_cache(maxsize=4096)
def _minute(timestamp: str) -> datetime:
    try:
        when = datetime.fromisoformat(timestamp)
    except ValueError:
        raise InvalidEvent(
            f"timestamp {timestamp[:64]!r} is not an RFC 3339 date-time", kind="timestamp"
        ) from None
    if when.tzinfo is None:
        raise InvalidEvent(f"timestamp {timestamp[:64]!r} has no time zone", kind="timestamp")
    try:
        return when.astimezone(UTC).replace(second=0, microsecond=0)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise InvalidEvent(
            f"timestamp {timestamp[:64]!r} is outside the years 1 to 9999 in UTC", kind="timestamp"
        ) from None


def to_row(
    event: Mapping[str, Any], event_id: str, ingested_at: datetime, default_origin: str
) -> LaunchRow:
    """Validate a launch event against its own schema version and return its ``launches`` row.

    Only fields the event's version defines are read. Raises ``InvalidEvent`` with the reason.
    """
    version = event.get("version")
    if type(version) is not int or (validate := _validators().get(version)) is None:
        raise InvalidEvent(f"unknown launch schema version {str(version)[:32]!r}", kind="version")
    try:
        validate(event)
    except JsonSchemaValueException as e:
        raise InvalidEvent(
            f"invalid v{version} launch event: {e.message[:300]}", kind="schema"
        ) from None
    when = _minute(event["timestamp"])
    if when - ingested_at > FUTURE_SKEW:
        raise InvalidEvent(f"timestamp {event['timestamp']!r} is in the future", kind="timestamp")
    get = event.get
    provider = get("provider")
    spec = get("spec")
    if spec and not SUSPECT.isdisjoint(spec):  # most specs hold nothing that may be private
        spec = public_spec(provider, spec)
    repo, ref = split_spec(provider, spec)
    # tuple.__new__ makes the same LaunchRow without its Python-level __init__: backfill
    # makes millions, and the constructor alone cost a tenth of its throughput.
    return _make_row(
        LaunchRow,
        (
            event_id,
            when,
            version,
            provider,
            spec,
            repo,
            ref,
            get("ref", "") if version >= 4 else "",
            get("status"),
            get("origin") if version >= 3 else default_origin,
            get("build_token") if version >= 5 else None,
            public_origin(get("request_origin")) if version >= 6 else None,
            ingested_at,
        ),
    )


def _json_object(text: str | bytes, what: str, kind: str) -> dict:
    try:
        value = json_value(text)
    except ValueError as e:
        raise InvalidEvent(f"{what} is not valid JSON: {str(e)[:200]}", kind=kind) from None
    if not isinstance(value, dict):
        raise InvalidEvent(f"{what} is JSON but not an object", kind=kind)
    return value


def _is_launch(value: Any) -> TypeGuard[dict]:
    return isinstance(value, dict) and ("version" in value or value.get("schema") == LAUNCH_SCHEMA)


def unwrap(document: dict) -> dict:
    """Return the launch event in a bare event or a Cloud Logging LogEntry.

    A log sink delivers the event in ``jsonPayload`` (possibly nested under ``message``
    or ``event``, as an object or as JSON text) or as JSON text in ``textPayload``.
    """
    if document.get("jsonPayload") is None and document.get("textPayload") is None:
        return document  # a null payload is no payload
    payload = document.get("jsonPayload")
    if isinstance(payload, dict):
        for candidate in (payload, payload.get("message"), payload.get("event")):
            if isinstance(candidate, str) and candidate.lstrip().startswith("{"):
                candidate = _json_object(
                    candidate, "the log entry's jsonPayload message", "log_entry"
                )
            if _is_launch(candidate):
                return candidate
        raise InvalidEvent("the log entry's jsonPayload carries no launch event", kind="log_entry")
    text = document.get("textPayload")
    if isinstance(text, str):
        return _json_object(text, "the log entry's textPayload", "log_entry")
    raise InvalidEvent(
        "the log entry has neither a jsonPayload object nor a textPayload string", kind="log_entry"
    )


def decode(data: str, max_bytes: int) -> dict:
    """Decode a Pub/Sub message's base64 ``data`` into a launch event (not yet validated)."""
    if len(data) > (max_bytes * 4) // 3 + 4:
        raise InvalidEvent(f"payload exceeds the {max_bytes}-byte limit", kind="too_large")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEvent("message data is not valid base64", kind="base64") from None
    if len(raw) > max_bytes:
        raise InvalidEvent(
            f"payload of {len(raw)} bytes exceeds the {max_bytes}-byte limit", kind="too_large"
        )
    return unwrap(_json_object(raw, "message data", "json"))


def _ipv6(match: re.Match) -> str:
    run = match.group(0)
    if len(run) > 100:  # a hex dump, not an address
        return run
    for start in range(len(run)):
        for end in range(len(run), start + 1, -1):
            try:
                ipaddress.IPv6Address(run[start:end])
            except ValueError:
                continue
            return run[:start] + "[address]" + _IPV6_RUN.sub(_ipv6, run[end:])
    return run


def _ipv4(match: re.Match) -> str:
    try:
        ipaddress.IPv4Address(match.group(1))  # the port, if any, goes with it
    except ValueError:
        return match.group(0)
    return "[address]"


def mask_addresses(text: str) -> str:
    """Mask every IPv6 and IPv4 address in ``text``, with a port, in brackets or glued to
    other text."""
    return _IPV4.sub(_ipv4, _IPV6_RUN.sub(_ipv6, text))


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes; what may be part of an address at the cut goes."""
    cut = truncate_utf8(text, limit)
    return _ADDRESS_TAIL.sub("", cut) if len(cut) < len(text) else cut


def redact(text: str, limit: int = ERROR_PAYLOAD_BYTES) -> str:
    """What ``launch_errors`` may keep of outside text (a payload, a reason): cut to
    ``limit`` bytes and every address masked. A cut never leaves half an address behind."""
    return _cut(mask_addresses(_cut(text, 2 * limit)), limit)


def error_payload(data: str) -> str:
    """What ``launch_errors`` keeps of a rejected message: the event part if one can be
    found (never a LogEntry's request or resource metadata), addresses masked, capped."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raw = data.encode("utf-8", "replace")
    # A little more than redact keeps: its own cut then falls inside the text, where it drops
    # what may be half an address (a cut at the very end could not tell).
    text = raw[: ERROR_PAYLOAD_BYTES * 2 + 64].decode("utf-8", "replace")
    try:
        document = json_value(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and ("jsonPayload" in document or "textPayload" in document):
        kept = {k: document[k] for k in ("jsonPayload", "textPayload") if k in document}
        text = json.dumps(kept, ensure_ascii=False)
    return redact(text)


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", "ignore")
