"""Fibonacci numbers."""

from __future__ import annotations


def fibonacci(n: int) -> int:
    """F(n) with F(0) = 0, F(1) = 1; ValueError for negative n."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    a, b = 0, 1
    for _ in range(n - 1):
        a, b = b, a + b
    return a


def fib_list(count: int) -> list[int]:
    """The first ``count`` Fibonacci numbers, F(0) first."""
    return [fibonacci(i) for i in range(count)]
