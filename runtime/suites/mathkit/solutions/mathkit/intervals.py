"""Merging closed intervals."""

from __future__ import annotations

from collections.abc import Iterable


def merge_intervals(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, non-overlapping union of closed intervals; touching ones merge; ValueError when start > end."""
    items = sorted(intervals)
    merged: list[tuple[float, float]] = []
    for start, end in items:
        if start > end:
            raise ValueError(f"interval ({start}, {end}) starts after it ends")
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
