"""The federation register: one CSV file naming each member once (``BINDEROPS_MEMBERS``).

``name,origin,url,projects,invoice,currency``: the member's name; the ``origin`` its launch
events carry; its BinderHub base URL; the Google Cloud projects its costs come under
(space-separated, may be empty); the member name its invoices use (may be empty); the
currency it reports in. Costs, freshness and the dashboard read it; launches from an origin
it does not name are still counted, as ``unregistered``.

Read whole and checked before anything uses it: a bad line names the file and line.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError

COLUMNS = ["name", "origin", "url", "projects", "invoice", "currency"]
UNREGISTERED = "unregistered"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_CURRENCY = re.compile(r"[A-Z]{3}")


class MembersError(ConfigError):
    """The register has a bad line; the message names the file and line."""

    kind = "invalid_members"


@dataclass(frozen=True)
class Member:
    name: str
    origin: str
    url: str
    projects: tuple[str, ...]
    invoice: str
    currency: str


def read_members(path: Path) -> list[Member]:
    """The register's members, in file order. Blank lines and ``#`` comments are skipped."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            lines = [
                (n, line)
                for n, line in enumerate(f, 1)
                if line.strip() and not line.lstrip().startswith("#")
            ]
    except OSError as e:
        raise MembersError(f"BINDEROPS_MEMBERS names {str(path)!r}: {e.strerror}") from None
    if not lines or [h.strip() for h in next(csv.reader([lines[0][1]]))] != COLUMNS:
        where = f"{path}:{lines[0][0]}" if lines else str(path)
        raise MembersError(f"{where}: the header must be {','.join(COLUMNS)}")
    members: list[Member] = []
    for number, line in lines[1:]:
        where = f"{path}:{number}"
        cells = [c.strip() for c in next(csv.reader([line]))]
        if len(cells) != len(COLUMNS):
            raise MembersError(f"{where}: expected {len(COLUMNS)} fields, got {len(cells)}")
        name, origin, url, projects, invoice, currency = cells
        if not _NAME.fullmatch(name) or name == UNREGISTERED:
            raise MembersError(f"{where}: name {name!r} must be letters, digits, '.', '_' or '-'")
        if not origin or any(c.isspace() for c in origin):
            raise MembersError(f"{where}: origin {origin!r} must be the host its launches carry")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MembersError(f"{where}: url {url!r} must be the BinderHub's http(s) base URL")
        for project in projects.split():
            if not _PROJECT.fullmatch(project):
                raise MembersError(f"{where}: {project!r} is not a Google Cloud project id")
        if invoice and not _NAME.fullmatch(invoice):
            raise MembersError(f"{where}: invoice name {invoice!r} must be like a member name")
        if not _CURRENCY.fullmatch(currency):
            raise MembersError(f"{where}: currency {currency!r} is not an ISO 4217 code")
        for seen in members:
            if name == seen.name or origin == seen.origin:
                same = "name" if name == seen.name else "origin"
                raise MembersError(f"{where}: {same} {cells[0 if same == 'name' else 1]!r} twice")
        members.append(
            Member(name, origin, url.rstrip("/"), tuple(projects.split()), invoice, currency)
        )
    return members


def names_by_origin(members: Sequence[Member]) -> dict[str, str]:
    return {m.origin: m.name for m in members}
