"""Least common multiple, built on gcd."""

from __future__ import annotations

from collections.abc import Iterable

from mathkit.gcd import gcd


def lcm(a: int, b: int) -> int:
    """The least common multiple of ``a`` and ``b``, never negative; 0 when either is 0."""
    if a == 0 or b == 0:
        return 0
    return abs(a * b) // gcd(a, b)


def lcm_all(values: Iterable[int]) -> int:
    """The least common multiple of all ``values``; 1 for no values."""
    result = 1
    for value in values:
        result = lcm(result, value)
    return result
