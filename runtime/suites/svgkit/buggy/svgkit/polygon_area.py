"""Polygon area and winding."""

from __future__ import annotations

from collections.abc import Sequence


def _shoelace(points: Sequence[tuple[float, float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:])) / 2


def polygon_area(points: Sequence[tuple[float, float]]) -> float:
    """The area enclosed by the polygon (shoelace formula, always >= 0)."""
    return abs(_shoelace(points))


def is_clockwise(points: Sequence[tuple[float, float]]) -> bool:
    """Whether the points turn clockwise on screen, where y grows downwards (positive shoelace sum)."""
    return _shoelace(points) > 0
