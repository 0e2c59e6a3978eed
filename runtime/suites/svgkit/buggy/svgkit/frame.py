"""The frame of a chart: its plot area and two axes."""

from __future__ import annotations

from collections.abc import Sequence

from svgkit.axis import Tick, x_axis, y_axis
from svgkit.element import element


def plot_area(width: float, height: float, margin: float) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) inside ``margin``; ValueError when the margins leave no room."""
    if 2 * margin >= width or 2 * margin >= height:
        raise ValueError(f"margin {margin} leaves no plot area in {width} x {height}")
    return margin, margin, width - margin, height - margin


def frame(width: float, height: float, margin: float, x_ticks: Sequence[Tick], y_ticks: Sequence[Tick]) -> str:
    """``<g class="frame">`` with the x axis along the bottom and the y axis up the left of the plot area."""
    left, top, right, bottom = plot_area(width, height, margin)
    return element("g", {"class_": "frame"}, x_axis(left, right, bottom, x_ticks), y_axis(left, top, bottom, y_ticks))
