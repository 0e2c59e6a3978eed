"""The sieve of Eratosthenes."""

from __future__ import annotations

from math import isqrt


def primes_up_to(n: int) -> list[int]:
    """Every prime p with p <= n, ascending; [] for n < 2."""
    if n < 2:
        return []
    flags = [True] * (n + 1)
    flags[0] = flags[1] = False
    for i in range(2, isqrt(n) + 1):
        if flags[i]:
            for j in range(i * i, n, i):
                flags[j] = False
    return [i for i, is_prime in enumerate(flags) if is_prime]
