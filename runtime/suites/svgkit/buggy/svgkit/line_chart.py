"""Line charts."""

from __future__ import annotations

from collections.abc import Sequence

from svgkit.document import svg_document
from svgkit.fmt import fmt
from svgkit.frame import frame, plot_area
from svgkit.shapes import Point, polyline


def chart_points(values: Sequence[float], width: float, height: float, margin: float) -> list[Point]:
    """Values spread evenly from the plot area's left to right edge, min at the bottom and max at the top
    (all in the middle when they are equal); ValueError for fewer than 2 values."""
    if len(values) < 2:
        raise ValueError("a line chart needs at least 2 values")
    left, top, right, bottom = plot_area(width, height, margin)
    lo, hi = min(values), max(values)
    step = (right - left) / (len(values) - 1)
    points = []
    for i, value in enumerate(values):
        y = (top + bottom) / 2 if hi == lo else top + (value - lo) / (hi - lo) * (bottom - top)
        points.append((left + i * step, y))
    return points


def line_chart(
    values: Sequence[float], width: float = 200, height: float = 120, margin: float = 20, stroke: str = "steelblue"
) -> str:
    """A document: the frame (y ticks at the min and max) and the values as a polyline."""
    _, top, _, bottom = plot_area(width, height, margin)
    y_ticks = [(bottom, fmt(min(values))), (top, fmt(max(values)))]
    return svg_document(
        width,
        height,
        frame(width, height, margin, [], y_ticks),
        polyline(chart_points(values, width, height, margin), stroke=stroke),
    )
