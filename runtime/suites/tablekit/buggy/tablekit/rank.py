"""Ranking groups by a statistic."""

from __future__ import annotations

from tablekit.aggregate import aggregate
from tablekit.table import Table


def rank(table: Table, key: str, name: str, how: str = "sum", *, descending: bool = True) -> Table:
    """``aggregate``'s rows with a value, best first, each with a competition "rank" (1, 2, 2, 4); ties keep order."""
    field = f"{how}_{name}"
    rows = [row for row in aggregate(table, key, name, how) if row[field] is not None]
    rows.sort(key=lambda row: row[field], reverse=descending)
    ranked = []
    for row in rows:
        better = len(
            {other[field] for other in rows if (other[field] > row[field] if descending else other[field] < row[field])}
        )
        ranked.append({**row, "rank": better + 1})
    return ranked
