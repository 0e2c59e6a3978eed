"""Exact fractions as reduced ``(numerator, denominator)`` pairs with a positive denominator."""

from __future__ import annotations

from mathkit.gcd import gcd
from mathkit.lcm import lcm

Frac = tuple[int, int]


def make(numerator: int, denominator: int = 1) -> Frac:
    """The reduced fraction numerator/denominator, its sign on the numerator; ZeroDivisionError for 0."""
    if denominator == 0:
        raise ZeroDivisionError("a fraction's denominator must not be 0")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    common = gcd(numerator, denominator)
    return numerator // common, denominator // common


def add(x: Frac, y: Frac) -> Frac:
    """x + y, over the least common multiple of the denominators, reduced."""
    common = lcm(x[1], y[1])
    return make(x[0] * (common // x[1]) + y[0] * (common // y[1]), common)
