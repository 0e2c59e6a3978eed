"""Digit sums."""

from __future__ import annotations


def digit_sum(n: int) -> int:
    """The sum of the decimal digits of |n|."""
    return sum(int(ch) for ch in str(abs(n)))


def digital_root(n: int) -> int:
    """Repeated digit sum of |n| down to one digit; 0 for 0."""
    n = abs(n)
    return 1 + (n - 1) % 9
