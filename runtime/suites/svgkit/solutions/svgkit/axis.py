"""Axes with ticks and labels."""

from __future__ import annotations

from collections.abc import Sequence

from svgkit.arrow import arrow
from svgkit.element import element
from svgkit.shapes import line, text

Tick = tuple[float, str]


def x_axis(x0: float, x1: float, y: float, ticks: Sequence[Tick], tick: float = 4.0) -> str:
    """``<g class="x-axis">``: an arrow from (x0, y) to (x1, y), then per (x, label) a tick down and a centred label."""
    parts = [arrow(x0, y, x1, y)]
    for x, label in ticks:
        parts.append(line(x, y, x, y + tick, stroke="black"))
        parts.append(text(x, y + tick + 12, label, text_anchor="middle"))
    return element("g", {"class_": "x-axis"}, *parts)


def y_axis(x: float, y0: float, y1: float, ticks: Sequence[Tick], tick: float = 4.0) -> str:
    """``<g class="y-axis">``: an arrow from (x, y0) up to (x, y1), then per (y, label) a tick left and a label."""
    parts = [arrow(x, y0, x, y1)]
    for y, label in ticks:
        parts.append(line(x - tick, y, x, y, stroke="black"))
        parts.append(text(x - tick - 2, y + 4, label, text_anchor="end"))
    return element("g", {"class_": "y-axis"}, *parts)
