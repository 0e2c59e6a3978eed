"""Binomial coefficients."""

from __future__ import annotations


def binomial(n: int, k: int) -> int:
    """n choose k for n >= 0; 0 when k < 0 or k > n."""
    if k < 0 or k > n:
        return 0
    k = min(k, n - k)
    result = 1
    for i in range(k):
        result = result * (n - i) // (i + 1)
    return result


def pascal_row(n: int) -> list[int]:
    """Row n of Pascal's triangle: [binomial(n, 0), ..., binomial(n, n)]."""
    return [binomial(n, k) for k in range(n + 1)]
