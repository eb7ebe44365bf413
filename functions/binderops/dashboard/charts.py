"""Charts drawn as SVG from the data at publish time: no library and no network at view
time. Each chart has a title, axis labels, a text alternative, and the table it was drawn
from beside it (in a <details>), so the numbers are there for screen readers and copying."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

# Colour-blind-safe (Okabe–Ito), in the order series are drawn.
COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 44


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
    head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in table.header)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{number(v)}</td>" for v in row) + "</tr>" for row in table.rows
    )
    return (
        f"<details><summary>Table: {escape(table.caption)}</summary>"
        f"<table data-for='{chart_id}'><caption>{escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></details>"
    )


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


def _frame(chart_id: str, title: str, description: str, top: float, y_label: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f"<svg id='{chart_id}' class='chart' viewBox='0 0 {WIDTH} {HEIGHT}' role='img' "
        f"aria-labelledby='{chart_id}-t {chart_id}-d'>",
        f"<title id='{chart_id}-t'>{escape(title)}</title>",
        f"<desc id='{chart_id}-d'>{escape(description)}</desc>",
    ]
    for step in range(5):
        value = top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        parts.append(
            f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y:.1f}' y2='{y:.1f}' class='grid'/>"
            f"<text x='{LEFT - 6}' y='{y + 4:.1f}' class='tick' text-anchor='end'>"
            f"{tick(value, top)}</text>"
        )
    parts.append(
        f"<text class='axis' transform='translate(12 {TOP + plot_h / 2}) rotate(-90)' "
        f"text-anchor='middle'>{escape(y_label)}</text>"
    )
    return parts


def bars(
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    y_label: str,
    x_label: str,
    description: str,
    whole: bool = False,
) -> str:
    """Stacked vertical bars: one bar per x label, one colour per series, with a legend.
    ``whole``: the values are counts, and the axis steps are whole numbers."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(x_labels))]
    highest = max(totals, default=0)
    top = whole_max(highest) if whole else nice_max(highest)
    parts = _frame(chart_id, title, description, top, y_label)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(x_labels), 1)
    every = max(1, len(x_labels) // 8)  # at most about eight x labels
    for i, label in enumerate(x_labels):
        base = float(TOP + plot_h)
        for n, (name, values) in enumerate(series.items()):
            h = plot_h * values[i] / top
            if h > 0:
                parts.append(
                    f"<rect x='{LEFT + i * slot + slot * 0.1:.1f}' y='{base - h:.1f}' "
                    f"width='{slot * 0.8:.1f}' height='{h:.1f}' fill='{COLOURS[n % len(COLOURS)]}'>"
                    f"<title>{escape(str(label))} {escape(name)}: {number(values[i])}</title></rect>"
                )
                base -= h
        if i % every == 0:
            parts.append(
                f"<text x='{LEFT + i * slot + slot / 2:.1f}' y='{TOP + plot_h + 16}' "
                f"class='tick' text-anchor='middle'>{escape(str(label))}</text>"
            )
    parts.append(
        f"<text x='{LEFT + plot_w / 2}' y='{HEIGHT - 4}' class='axis' text-anchor='middle'>"
        f"{escape(x_label)}</text></svg>"
    )
    legend = "".join(
        f"<span><i style='background:{COLOURS[n % len(COLOURS)]}'></i>{escape(name)}</span>"
        for n, name in enumerate(series)
    )
    return "".join(parts) + (f"<p class='legend'>{legend}</p>" if len(series) > 1 else "")


def hbars(chart_id: str, title: str, items: Sequence[tuple[str, float]], unit: str) -> str:
    """Horizontal bars, largest first: shares and top lists."""
    rows = len(items)
    height = 26 * max(rows, 1) + 8
    top = max((v for _, v in items), default=0) or 1
    label_w = 250
    parts = [
        f"<svg id='{chart_id}' class='chart' viewBox='0 0 {WIDTH} {height}' role='img' "
        f"aria-labelledby='{chart_id}-t {chart_id}-d'>",
        f"<title id='{chart_id}-t'>{escape(title)}</title>",
        f"<desc id='{chart_id}-d'>{escape(title)}, in {escape(unit)}: "
        + escape("; ".join(f"{k} {number(v)}" for k, v in items))
        + "</desc>",
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + 26 * i
        w = (WIDTH - label_w - 80) * value / top
        shown = label if len(label) <= 25 else label[:24] + "…"
        parts.append(
            f"<text x='{label_w - 6}' y='{y + 16}' class='tick' text-anchor='end'>{escape(shown)}</text>"
            f"<rect x='{label_w}' y='{y + 3}' width='{max(w, 1):.1f}' height='18' fill='{COLOURS[0]}'/>"
            f"<text x='{label_w + w + 6:.1f}' y='{y + 16}' class='tick'>{number(value)}</text>"
        )
    return "".join(parts) + "</svg>"
