"""Summaries of every numeric column."""

from __future__ import annotations

from tablekit.column import column
from tablekit.numeric import to_number
from tablekit.summary import summarize
from tablekit.table import Table, columns


def numeric_columns(table: Table) -> list[str]:
    """Columns whose non-None values are all numeric (``to_number``), with at least one such value."""
    found = []
    for name in columns(table):
        values = [value for value in column(table, name) if value is not None]
        if all(to_number(value) is not None for value in values):
            found.append(name)
    return found


def describe(table: Table) -> dict[str, dict[str, float | int | None]]:
    """``summarize`` of each numeric column, in column order."""
    return {name: summarize(table, name) for name in numeric_columns(table)}
