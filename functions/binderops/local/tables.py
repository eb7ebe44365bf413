"""Query results as a person reads them: an aligned table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# What a terminal may act on rather than show: C0 and C1 controls (ESC starts a sequence that
# can retitle the window, rewrite the screen or forge a hyperlink), and the bidirectional
# overrides and isolates that reorder what is shown.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A cell a spreadsheet would run as a formula (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every character a terminal would act on written as an escape."""
    return _UNSAFE.sub(_escaped, text)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    """A CSV cell: text a spreadsheet would read as a formula gets a leading ``'`` (values that
    are numbers stay numbers), and controls are escaped as in the table."""
    text = _text(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        text = "'" + text
    return visible(text)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def format_rows(rows: Sequence[dict], fmt: str) -> str:
    """Rows as an aligned ``table``, a ``json`` array of objects, or ``csv`` with a header."""
    if fmt == "json":
        # JSON escapes C0 controls itself; the rest of what a terminal acts on, only in
        # strings, where a \\u escape means the same character.
        text = json.dumps(list(rows), default=_json_default, ensure_ascii=False)
        return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    columns = [visible(c) for c in rows[0]] if rows else []
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(value) for value in r.values()] for r in rows])
        return out.getvalue().rstrip("\n")
    if not rows:
        return "(no rows)"
    cells = [[visible(_text(value)) for value in r.values()] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)
