"""Sorting rows by a column."""

from __future__ import annotations

from typing import Any


def sort_by(table: list[dict[str, Any]], key: str, *, descending: bool = False) -> list[dict[str, Any]]:
    """Rows sorted by ``key`` (stable); rows where it is missing or None come last in either direction."""
    present = [row for row in table if row.get(key) is not None]
    missing = [row for row in table if row.get(key) is None]
    return sorted(present, key=lambda row: row[key], reverse=descending) + missing
