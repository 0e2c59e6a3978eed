"""Variance and standard deviation."""

from __future__ import annotations

import math
from collections.abc import Sequence


def variance(values: Sequence[float], *, sample: bool = False) -> float:
    """Population variance, or with ``sample=True`` the sample variance (n - 1); ValueError when too few values."""
    needed = 2 if sample else 1
    if len(values) < needed:
        raise ValueError(f"need at least {needed} values, got {len(values)}")
    average = sum(values) / len(values)
    squares = sum((v - average) ** 2 for v in values)
    return squares / len(values)


def stdev(values: Sequence[float], *, sample: bool = False) -> float:
    """The square root of ``variance``."""
    return math.sqrt(variance(values, sample=sample))
