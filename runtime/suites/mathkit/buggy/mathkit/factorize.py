"""Prime factorisation."""

from __future__ import annotations


def factorize(n: int) -> list[int]:
    """The prime factors of n >= 1 with repetition, ascending ([] for 1); ValueError for n < 1."""
    if n < 1:
        raise ValueError(f"can only factorise positive integers, got {n}")
    factors: list[int] = []
    d = 2
    while d * d <= n:
        while n % d == 0:
            factors.append(d)
            n //= d
        d += 1
    if n > 2:
        factors.append(n)
    return factors
