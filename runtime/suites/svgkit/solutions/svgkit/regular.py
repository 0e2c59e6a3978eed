"""Regular polygons."""

from __future__ import annotations

import math


def regular_polygon(cx: float, cy: float, r: float, n: int, rotation: float = 0) -> list[tuple[float, float]]:
    """n >= 3 vertices on the circle, the first at the top (turned ``rotation`` degrees clockwise), going
    clockwise on screen (y down), each coordinate rounded to 3 decimals."""
    if n < 3:
        raise ValueError(f"a polygon needs at least 3 sides, got {n}")
    points = []
    for i in range(n):
        angle = math.radians(rotation + 360 * i / n)
        points.append((round(cx + r * math.sin(angle), 3), round(cy - r * math.cos(angle), 3)))
    return points
