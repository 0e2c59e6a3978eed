"""Computed columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def add_column(table: list[dict[str, Any]], name: str, fn: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
    """New rows with column ``name`` set to ``fn(row)``; the input rows are not changed."""
    for row in table:
        row[name] = fn(row)
    return list(table)
