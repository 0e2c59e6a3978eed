"""Quantiles of a column."""

from __future__ import annotations

import math

from tablekit.numeric import numbers
from tablekit.table import Table


def quantile(table: Table, name: str, q: float) -> float | None:
    """The q-quantile (0 <= q <= 1) of column ``name``'s numbers, interpolating linearly between ranks; None if none."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be between 0 and 1, got {q}")
    values = sorted(numbers(table, name))
    if not values:
        return None
    position = q * len(values)
    lower = math.floor(position)
    upper = min(lower + 1, len(values) - 1)
    return values[lower] + (values[upper] - values[lower]) * (position - lower)
