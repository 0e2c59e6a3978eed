"""Primality by trial division."""

from __future__ import annotations

from math import isqrt


def is_prime(n: int) -> bool:
    """Whether n is a prime number (False for n < 2)."""
    if n < 2:
        return False
    return all(n % d for d in range(2, isqrt(n)))
