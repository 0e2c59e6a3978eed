"""Numbers from table cells."""

from __future__ import annotations

from typing import Any

from tablekit.column import column
from tablekit.table import Table


def to_number(value: Any) -> float | None:
    """An int or float (not a bool) as a float, a numeric string parsed with float(); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def numbers(table: Table, name: str) -> list[float]:
    """The numeric values of column ``name`` as floats, in row order, skipping the rest."""
    values = (to_number(value) for value in column(table, name))
    return [value for value in values if value is not None]
