"""Divisors and perfect numbers."""

from __future__ import annotations

from math import isqrt


def divisors(n: int) -> list[int]:
    """Every positive divisor of n >= 1, ascending; ValueError for n < 1."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    small = [d for d in range(1, isqrt(n)) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})


def is_perfect(n: int) -> bool:
    """Whether n >= 1 equals the sum of its divisors below n."""
    return sum(divisors(n)) - n == n
