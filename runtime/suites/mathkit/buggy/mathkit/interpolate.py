"""Clamping and linear interpolation."""

from __future__ import annotations


def clamp(x: float, lo: float, hi: float) -> float:
    """x limited to [lo, hi]; ValueError when lo > hi."""
    if lo > hi:
        raise ValueError(f"empty range: lo={lo} > hi={hi}")
    return min(max(x, lo), hi)


def lerp(a: float, b: float, t: float) -> float:
    """The point a fraction t of the way from a to b (t is not clamped)."""
    return a + b * t


def inverse_lerp(a: float, b: float, x: float) -> float:
    """The t with lerp(a, b, t) == x; ValueError when a == b."""
    if a == b:
        raise ValueError("a and b must differ")
    return (x - a) / (b - a)
