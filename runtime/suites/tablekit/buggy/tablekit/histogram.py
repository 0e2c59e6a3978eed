"""Histograms."""

from __future__ import annotations

from collections.abc import Iterable


def histogram(values: Iterable[float], bins: int, lo: float, hi: float) -> list[int]:
    """Counts in ``bins`` equal-width bins over [lo, hi]; hi itself goes in the last bin, values outside are ignored."""
    if bins < 1 or lo >= hi:
        raise ValueError("need bins >= 1 and lo < hi")
    counts = [0] * bins
    width = (hi - lo) / bins
    for value in values:
        if lo <= value <= hi:
            counts[int((value - lo) / width)] += 1
    return counts
