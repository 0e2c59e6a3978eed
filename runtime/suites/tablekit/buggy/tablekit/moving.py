"""Moving averages."""

from __future__ import annotations

from collections.abc import Sequence


def moving_average(values: Sequence[float], window: int) -> list[float | None]:
    """The mean of each value and the ``window - 1`` before it; None while fewer values have been seen."""
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    return [sum(values[i - window : i]) / window if i + 1 >= window else None for i in range(len(values))]
