"""Each group's share of the total."""

from __future__ import annotations

from tablekit.table import Table
from tablekit.top_other import top_with_other


def share_table(table: Table, key: str, name: str, n: int, how: str = "sum") -> Table:
    """``top_with_other``'s rows, each with "share": its value over the total, rounded to 4 decimals (0.0 if total 0)."""
    field = f"{how}_{name}"
    rows = top_with_other(table, key, name, n, how)
    total = sum(row[field] for row in rows)
    return [{**row, "share": round(row[field] / total, 4) if total else 0.0} for row in rows]
