"""The Collatz map."""

from __future__ import annotations


def collatz_sequence(n: int) -> list[int]:
    """n, then n/2 or 3n+1 repeatedly, ending with 1; ValueError for n < 1."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    sequence = [n]
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        sequence.append(n)
    return sequence


def collatz_steps(n: int) -> int:
    """How many steps the sequence from n takes to reach 1."""
    return len(collatz_sequence(n)) - 1
