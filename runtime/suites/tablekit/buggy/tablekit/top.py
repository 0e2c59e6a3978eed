"""The top groups."""

from __future__ import annotations

from tablekit.rank import rank
from tablekit.table import Table


def top_n(table: Table, key: str, name: str, n: int, how: str = "sum") -> Table:
    """The ranked rows (see ``rank``, largest first) whose rank is at most n, so ties at the edge are all kept."""
    return [row for row in rank(table, key, name, how) if row["rank"] < n]
