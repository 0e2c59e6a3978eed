"""Bar charts."""

from __future__ import annotations

from collections.abc import Sequence

from svgkit.element import element
from svgkit.fmt import fmt
from svgkit.frame import frame, plot_area
from svgkit.shapes import rect


def bar_chart(
    values: Sequence[float],
    labels: Sequence[str],
    width: float = 200,
    height: float = 120,
    margin: float = 20,
    fill: str = "steelblue",
) -> str:
    """``<g class="bar-chart">``: the frame, then one bar per value, scaled so the largest reaches the top."""
    if not values or len(values) != len(labels) or min(values) < 0:
        raise ValueError("need as many labels as values, at least one, and no negative value")
    left, top, right, bottom = plot_area(width, height, margin)
    slot = (right - left) / len(values)
    peak = max(values) or 1
    x_ticks = [(left + (i + 0.5) * slot, label) for i, label in enumerate(labels)]
    parts = [frame(width, height, margin, x_ticks, [(bottom, "0"), (top, fmt(peak))])]
    for i, value in enumerate(values):
        h = value / peak * (bottom - top)
        parts.append(rect(left + i * slot, bottom - h, slot * 0.8, h, fill=fill))
    return element("g", {"class_": "bar-chart"}, *parts)
