"""Area charts."""

from __future__ import annotations

from collections.abc import Sequence

from svgkit.document import svg_document
from svgkit.frame import plot_area
from svgkit.line_chart import chart_points
from svgkit.shapes import Point, polygon


def area_points(values: Sequence[float], width: float, height: float, margin: float) -> list[Point]:
    """The outline under the line: bottom-left corner, ``chart_points``, bottom-right corner."""
    left, _, right, bottom = plot_area(width, height, margin)
    return [(left, bottom), *chart_points(values, width, height, margin), (right, bottom)]


def area_chart(
    values: Sequence[float], width: float = 200, height: float = 120, margin: float = 20, fill: str = "lightsteelblue"
) -> str:
    """A document holding the area as one filled polygon."""
    return svg_document(width, height, polygon(area_points(values, width, height, margin), fill=fill))
