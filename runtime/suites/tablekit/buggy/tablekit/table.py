"""Tables: lists of rows, each a dict from column name to value."""

from __future__ import annotations

from typing import Any

Table = list[dict[str, Any]]


def check_table(table: Any) -> Table:
    """``table`` itself if it is a list of dicts with string keys; TypeError naming the first bad row otherwise."""
    if not isinstance(table, list):
        raise TypeError(f"a table is a list of dicts, got {type(table).__name__}")
    for index, row in enumerate(table):
        if not isinstance(row, dict) or not all(isinstance(key, str) for key in row):
            raise TypeError(f"row {index} of the table is not a dict with string keys: {row!r}")
    return table


def columns(table: Table) -> list[str]:
    """Every column name in the table, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in check_table(table)[:1]:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)
