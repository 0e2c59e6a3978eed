"""One column of a table."""

from __future__ import annotations

from typing import Any

from tablekit.table import Table, columns


def column(table: Table, name: str) -> list[Any]:
    """The values of column ``name`` in row order, None where a row lacks it; KeyError for an unknown column."""
    if name not in columns(table):
        raise KeyError(f"no column {name!r} in the table; its columns are {columns(table)}")
    return [row[name] for row in table]
