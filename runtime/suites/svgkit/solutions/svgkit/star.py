"""Star outlines."""

from __future__ import annotations

import math


def star_points(cx: float, cy: float, outer: float, inner: float, n: int) -> list[tuple[float, float]]:
    """2n points alternating between radius ``outer`` (first, at the top) and ``inner``, clockwise on screen,
    each coordinate rounded to 3 decimals; ValueError for n < 2 or inner >= outer."""
    if n < 2 or not 0 <= inner < outer:
        raise ValueError("need n >= 2 and 0 <= inner < outer")
    points = []
    for i in range(2 * n):
        r = outer if i % 2 == 0 else inner
        angle = math.pi * i / n
        points.append((round(cx + r * math.sin(angle), 3), round(cy - r * math.cos(angle), 3)))
    return points
