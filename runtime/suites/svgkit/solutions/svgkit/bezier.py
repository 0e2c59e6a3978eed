"""Points on Bezier curves."""

from __future__ import annotations

Point = tuple[float, float]


def quad_point(p0: Point, p1: Point, p2: Point, t: float) -> Point:
    """The point at t of the quadratic Bezier curve p0, p1, p2."""
    u = 1 - t
    return (u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0], u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1])


def cubic_point(p0: Point, p1: Point, p2: Point, p3: Point, t: float) -> Point:
    """The point at t of the cubic Bezier curve p0, p1, p2, p3."""
    u = 1 - t
    a, b, c, d = u**3, 3 * u * u * t, 3 * u * t * t, t**3
    return (a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1])
