"""A badge: the small SVG a README embeds (``badge.svg``, its text escaped as SVG), served
with headers that let no browser read it as anything else. Launch counts and member uptime
draw theirs with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .templates import render

HERE = Path(__file__).resolve().parent
BLUE, GREEN, YELLOW, GREY, RED = "#579aca", "#3c9a3f", "#c9a227", "#9f9f9f", "#e05d44"
# A bad request's badge may be kept a minute (a corrected README is seen soon).
ERROR_CACHE_CONTROL = "public, max-age=60"
# A badge is an image that anyone's README embeds: no browser may read it as anything else
# (nosniff), and if one opens it as a document nothing in it may run or load (the policy
# allows nothing; SVG's presentation attributes need no style source).
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@dataclass(frozen=True)
class Badge:
    status: int
    svg: bytes
    headers: dict[str, str]


def _width(text: str) -> int:
    """Text width in pixels at 11 px Verdana, near enough for a badge."""
    return int(sum(7.5 if c.isupper() or c in "mw" else 6.2 for c in text)) + 10


def svg(label: str, value: str, color: str, title: str) -> bytes:
    left, right = _width(label), _width(value)
    return render(
        HERE,
        "badge.svg",
        left=left,
        right=right,
        label=label,
        value=value,
        color=color,
        title=title,
    ).encode()


def headers(cache_control: str) -> dict[str, str]:
    return {
        "Content-Type": "image/svg+xml; charset=utf-8",
        "Cache-Control": cache_control,
        **SAFE_HEADERS,
    }
