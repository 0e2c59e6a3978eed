"""Summary statistics of a column."""

from __future__ import annotations

from tablekit.numeric import numbers
from tablekit.quantile import quantile
from tablekit.table import Table


def summarize(table: Table, name: str) -> dict[str, float | int | None]:
    """count, sum, mean, min, median and max of column ``name``'s numbers (sum 0.0 and the rest None when none)."""
    values = numbers(table, name)
    if not values:
        return {"count": 0, "sum": 0.0, "mean": None, "min": None, "median": None, "max": None}
    total = sum(values)
    return {
        "count": len(values),
        "sum": total,
        "mean": total / len(table),
        "min": min(values),
        "median": quantile(table, name, 0.5),
        "max": max(values),
    }
