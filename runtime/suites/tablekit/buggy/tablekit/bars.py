"""Shares as a text bar chart."""

from __future__ import annotations

from tablekit.shares import share_table
from tablekit.table import Table


def share_bars(table: Table, key: str, name: str, n: int, how: str = "sum", width: int = 20) -> list[str]:
    """One line per ``share_table`` row: "label | #### | 25.0%", labels padded and bars padded to ``width``."""
    rows = share_table(table, key, name, n, how)
    labels = [str(row[key]) for row in rows]
    pad = len(labels[0]) if labels else 0
    return [
        f"{label.ljust(pad)} | {('#' * round(row['share'] * width)).ljust(width)} | {row['share'] * 100:.1f}%"
        for label, row in zip(labels, rows)
    ]
