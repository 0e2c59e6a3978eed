"""Angles for pie charts."""

from __future__ import annotations

import math
from collections.abc import Sequence


def polar_to_cartesian(cx: float, cy: float, r: float, angle: float) -> tuple[float, float]:
    """The point at ``angle`` degrees clockwise from the top (12 o'clock) on screen, rounded to 6 decimals."""
    radians = math.radians(angle)
    return round(cx + r * math.sin(radians), 6), round(cy - r * math.cos(radians), 6)


def pie_angles(values: Sequence[float]) -> list[tuple[float, float]]:
    """(start, end) degrees of each value's slice, starting at 0 and ending at 360; ValueError for a negative
    value or a zero total."""
    if any(v < 0 for v in values) or sum(values) == 0:
        raise ValueError("need non-negative values with a positive total")
    total = sum(values)
    angles = []
    start = 0.0
    for value in values:
        end = start + 360 * value / total
        angles.append((start, end))
    return angles
