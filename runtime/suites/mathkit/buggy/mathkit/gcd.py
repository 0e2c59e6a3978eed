"""Greatest common divisor."""

from __future__ import annotations


def gcd(a: int, b: int) -> int:
    """The greatest common divisor of ``a`` and ``b``, never negative; ``gcd(0, 0) == 0``."""
    a, b = a, abs(b)
    while b:
        a, b = b, a % b
    return a
