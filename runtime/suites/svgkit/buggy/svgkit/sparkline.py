"""Sparklines: small charts without axes."""

from __future__ import annotations

from collections.abc import Sequence

from svgkit.area_chart import area_points
from svgkit.document import svg_document
from svgkit.line_chart import chart_points
from svgkit.shapes import polygon, polyline

SPARK_MARGIN = 2


def sparkline_shapes(
    values: Sequence[float], width: float = 100, height: float = 20, fill: str | None = None
) -> list[str]:
    """The filled area (only when ``fill`` is given, without a stroke) and a black line, with a margin of 2."""
    shapes = []
    if fill is None:
        shapes.append(polygon(area_points(values, width, height, SPARK_MARGIN), fill=fill, stroke="none"))
    shapes.append(polyline(chart_points(values, width, height, SPARK_MARGIN), stroke="black"))
    return shapes


def sparkline(values: Sequence[float], width: float = 100, height: float = 20, fill: str | None = None) -> str:
    """A document holding ``sparkline_shapes``."""
    return svg_document(width, height, *sparkline_shapes(values, width, height, fill))
