"""Filtering rows by equality."""

from __future__ import annotations

from typing import Any


def where(table: list[dict[str, Any]], **equals: Any) -> list[dict[str, Any]]:
    """The rows that have every given column with a value equal to the given one (a missing column never matches)."""
    return [row for row in table if all(name in row and row[name] == value for name, value in equals.items())]
