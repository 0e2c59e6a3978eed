"""Running totals."""

from __future__ import annotations

from typing import Any


def cumulative_sum(table: list[dict[str, Any]], name: str, new_name: str) -> list[dict[str, Any]]:
    """New rows with ``new_name`` = the sum of ``name`` over this row and all before it (non-numbers count as 0)."""
    total: float = 0
    result = []
    for row in table:
        value = row.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            total += value
        result.append({**row, new_name: total})
    return result
