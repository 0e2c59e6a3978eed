"""Grouping rows by a column."""

from __future__ import annotations

from typing import Any

from tablekit.describe import describe
from tablekit.table import Table, check_table


def group_by(table: Table, key: str) -> dict[Any, Table]:
    """Rows grouped by their value of ``key`` (None when missing), groups in order of first appearance."""
    groups: dict[Any, Table] = {}
    for row in check_table(table):
        groups.setdefault(row.get(key), []).append(row)
    return groups


def group_describe(table: Table, key: str) -> dict[Any, dict[str, dict[str, float | int | None]]]:
    """``describe`` of each group, leaving out the ``key`` column itself."""
    return {
        value: describe([{k: v for k, v in row.items() if k != key} for row in rows])
        for value, rows in group_by(table, key).items()
    }
