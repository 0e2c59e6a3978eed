"""A Markdown section about one grouping."""

from __future__ import annotations

from tablekit.aggregate import aggregate
from tablekit.bars import share_bars
from tablekit.table import Table


def report(table: Table, key: str, name: str, n: int = 5, how: str = "sum") -> str:
    """A heading, a total line and the bar chart as an indented code block, joined by newlines."""
    bars = share_bars(table, key, name, n, how)  # first: it rejects a statistic that cannot be added up
    rows = aggregate(table, key, name, how)
    total = sum(row[f"{how}_{name}"] for row in rows)
    lines = [f"## {how} of {name} by {key}", "", f"Total: {total:g} over {len(rows)} groups.", ""]
    lines += ["    " + line for line in bars]
    return "\n".join(lines)
