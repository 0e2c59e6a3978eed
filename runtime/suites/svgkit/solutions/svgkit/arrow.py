"""Arrows: a line and a triangular head."""

from __future__ import annotations

import math

from svgkit.element import element
from svgkit.shapes import line, polygon


def arrow(x1: float, y1: float, x2: float, y2: float, head: float = 6.0, color: str = "black") -> str:
    """``<g stroke=color fill=color>`` holding the line and a head whose tip is (x2, y2), ``head`` long and wide."""
    length = math.hypot(x2 - x1, y2 - y1)
    if length == 0:
        raise ValueError("an arrow needs two different points")
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bx, by = x2 - head * ux, y2 - head * uy
    nx, ny = -uy * head / 2, ux * head / 2
    tip = [(x2, y2), (bx + nx, by + ny), (bx - nx, by - ny)]
    return element("g", {"stroke": color, "fill": color}, line(x1, y1, x2, y2), polygon(tip))
