"""Charts drawn as SVG from the data at publish time: no library and no network at view
time. Each chart has a title, axis labels, a text alternative, and the table it was drawn
from beside it (in a <details>), so the numbers are there for screen readers and copying."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

# Colour-blind-safe (Okabe–Ito), in the order series are drawn. The page colours each series
# by its class (s0, s1, …) so that dark mode can draw the last one, black, in the ink's colour.
COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 12, 48
# A label longer than this is shortened in its middle on the chart (its end tells repositories
# and incidents apart); the whole of it is in the bar's <title> and the table.
LABEL_CHARS = 44


@dataclass(frozen=True)
class Unit:
    """What a chart's values are: ``name`` labels its value axis ("launches", "USD per
    launch"), ``show`` writes one value with its unit ("79.0%", "42 min", "0.0125 USD")."""

    name: str
    show: Callable[[float], str]


def count(noun: str) -> Unit:
    return Unit(noun, lambda value: f"{value:,.0f} {noun}")


def percent_text(value: float, places: int = 1) -> str:
    """A percentage (0 to 100), to a tenth of a point unless ``places`` says otherwise."""
    return f"{value:.{places}f}%"


def percent(of: str) -> Unit:
    return Unit(f"percent of {of}", percent_text)


def duration_text(seconds: float) -> str:
    """A duration as a reader says it: seconds, minutes, hours or days."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def duration(what: str) -> Unit:
    """Values in seconds, written in the unit that reads best."""
    return Unit(what, duration_text)


def money_text(value: float, currency: str) -> str:
    """Money with its currency: cents for amounts, four places for fractions of a cent."""
    return (
        f"{value:,.2f} {currency}" if abs(value) >= 1 or value == 0 else f"{value:.4f} {currency}"
    )


def money(currency: str, per: str = "") -> Unit:
    return Unit(f"{currency} {per}".strip(), lambda value: money_text(value, currency))


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: list[tuple]


def number(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


def table_html(table: Table, chart_id: str) -> str:
    """The chart's table, folded under its summary. The table scrolls sideways inside its own
    box on a narrow screen, so it takes the keyboard's focus (tabindex) to be scrolled."""
    head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in table.header)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{number(v)}</td>" for v in row) + "</tr>" for row in table.rows
    )
    return (
        f"<details><summary>Table: {escape(table.caption)}</summary>"
        f"<table data-for='{chart_id}' tabindex='0'><caption>{escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></details>"
    )


def shortened(labels: Sequence[str]) -> list[str]:
    """``labels`` as drawn: each at most LABEL_CHARS long, cut in the middle, and distinct
    where the labels are (two long names that share a start and an end get a number)."""
    drawn: list[str] = []
    for label in labels:
        if len(label) > LABEL_CHARS:
            keep = LABEL_CHARS - 1
            label = label[: keep - keep // 2] + "…" + label[len(label) - keep // 2 :]
        candidate, n = label, 1
        while candidate in drawn:
            n += 1
            candidate = f"{label} ({n})"
        drawn.append(candidate)
    return drawn


def nice_max(value: float) -> float:
    """The axis top for ``value``: the smallest of 1, 2, 2.5 and 5 times a power of ten that
    is at least it, at any magnitude (cost per launch is 0.001–0.05, launches are
    thousands), so the tallest bar fills at least half the plot. 1 when there is nothing."""
    if not value > 0 or not math.isfinite(value):
        return 1
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * power
        if value <= top * (1 + 1e-9):  # 3 × 0.1 is 0.30000000000000004
            return float(f"{top:.12g}")
    return float(f"{10 * power:.12g}")


def whole_max(value: float) -> int:
    """The axis top for counts: four equal whole steps (launches, deploys), so no tick reads
    0.5 of a deploy. The step is 1, 2 or 5 times a power of ten, at least 1."""
    quarter = nice_max(value / 4) if value > 0 else 1.0
    if quarter != int(quarter):  # 2.5 × 10^k below 10: the next nice step is whole
        quarter = nice_max(quarter * (1 + 1e-6))
    return 4 * max(1, int(quarter))


def tick(value: float, top: float) -> str:
    """A tick label with the decimals the axis's quarter steps need (0.0125, not 0.01)."""
    if value == 0:
        return "0"
    places = 0
    while places < 12 and abs(round(top / 4, places) - top / 4) > top * 1e-12:
        places += 1
    if places == 0:
        return f"{round(value):,}"
    return f"{value:,.{places}f}"


def _frame(chart_id: str, title: str, description: str, top: float, unit: Unit) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f"<svg id='{chart_id}' class='chart' viewBox='0 0 {WIDTH} {HEIGHT}' role='img' "
        f"data-unit='{escape(unit.name)}' aria-labelledby='{chart_id}-t {chart_id}-d'>",
        f"<title id='{chart_id}-t'>{escape(title)}</title>",
        f"<desc id='{chart_id}-d'>{escape(description)}</desc>",
    ]
    for step in range(5):
        value = top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        parts.append(
            f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y:.1f}' y2='{y:.1f}' class='grid'/>"
            f"<text x='{LEFT - 6}' y='{y + 5:.1f}' class='tick' text-anchor='end'>"
            f"{tick(value, top)}</text>"
        )
    parts.append(
        f"<text class='axis' transform='translate(16 {TOP + plot_h / 2}) rotate(-90)' "
        f"text-anchor='middle'>{escape(unit.name)}</text>"
    )
    return parts


def bars(
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    unit: Unit,
    x_label: str,
    description: str,
    whole: bool = False,
) -> str:
    """Stacked vertical bars: one bar per x label, one colour per series, with a legend.
    ``whole``: the values are counts, and the axis steps are whole numbers."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(x_labels))]
    highest = max(totals, default=0)
    top = whole_max(highest) if whole else nice_max(highest)
    parts = _frame(chart_id, title, description, top, unit)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(x_labels), 1)
    # At most about six x labels: on a phone they are drawn large enough to read.
    every = max(1, math.ceil(len(x_labels) / 6))
    for i, label in enumerate(x_labels):
        base = float(TOP + plot_h)
        for n, (name, values) in enumerate(series.items()):
            h = plot_h * values[i] / top
            if h > 0:
                parts.append(
                    f"<rect x='{LEFT + i * slot + slot * 0.1:.1f}' y='{base - h:.1f}' "
                    f"width='{slot * 0.8:.1f}' height='{h:.1f}' class='s{n % len(COLOURS)}'>"
                    f"<title>{escape(str(label))} {escape(name)}: "
                    f"{escape(unit.show(values[i]))}</title></rect>"
                )
                base -= h
        if i % every == 0:
            parts.append(
                f"<text x='{LEFT + i * slot + slot / 2:.1f}' y='{TOP + plot_h + 20}' "
                f"class='tick' text-anchor='middle'>{escape(str(label))}</text>"
            )
    parts.append(
        f"<text x='{LEFT + plot_w / 2}' y='{HEIGHT - 4}' class='axis' text-anchor='middle'>"
        f"{escape(x_label)}</text></svg>"
    )
    return "".join(parts) + (legend(series) if len(series) > 1 else "")


def legend(names: Iterable[str]) -> str:
    return (
        "<p class='legend'>"
        + "".join(
            f"<span><i class='s{n % len(COLOURS)}'></i>{escape(name)}</span>"
            for n, name in enumerate(names)
        )
        + "</p>"
    )


def hbars(chart_id: str, title: str, items: Sequence[tuple[str, float]], unit: Unit) -> str:
    """Horizontal bars, largest first: shares and top lists. Each label has the chart's whole
    width above its bar (so names are not cut short), and each value is written with its unit
    at the end of its bar."""
    row = 50
    height = row * max(len(items), 1) + 40
    top = max((v for _, v in items), default=0) or 1
    room = WIDTH - 8 - 190  # the longest bar leaves room for its value
    parts = [
        f"<svg id='{chart_id}' class='chart' viewBox='0 0 {WIDTH} {height}' role='img' "
        f"data-unit='{escape(unit.name)}' aria-labelledby='{chart_id}-t {chart_id}-d'>",
        f"<title id='{chart_id}-t'>{escape(title)}</title>",
        f"<desc id='{chart_id}-d'>{escape(title)}: "
        + escape("; ".join(f"{k} {unit.show(v)}" for k, v in items) or "none")
        + "</desc>",
    ]
    for i, ((label, value), shown) in enumerate(zip(items, shortened([k for k, _ in items]))):
        y = 4 + row * i
        w = max(room * value / top, 1)
        parts.append(
            f"<g><title>{escape(label)}: {escape(unit.show(value))}</title>"
            f"<text x='4' y='{y + 19}' class='tick label'>{escape(shown)}</text>"
            f"<rect x='4' y='{y + 27}' width='{w:.1f}' height='16' class='s0'/>"
            f"<text x='{w + 10:.1f}' y='{y + 42}' class='tick value'>"
            f"{escape(unit.show(value))}</text></g>"
        )
    if not items:
        parts.append("<text x='4' y='22' class='tick'>None in this period.</text>")
    parts.append(
        f"<text x='{WIDTH / 2}' y='{height - 6}' class='axis' text-anchor='middle'>"
        f"{escape(unit.name)}</text></svg>"
    )
    return "".join(parts)
