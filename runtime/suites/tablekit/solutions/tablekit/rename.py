"""Renaming columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def rename(table: list[dict[str, Any]], mapping: Mapping[str, str]) -> list[dict[str, Any]]:
    """New rows with columns renamed by ``mapping``, order kept; ValueError when a new name is already taken."""
    result = []
    for index, row in enumerate(table):
        new_row: dict[str, Any] = {}
        for name, value in row.items():
            new_name = mapping.get(name, name)
            if new_name in new_row:
                raise ValueError(f"row {index}: renaming gives two columns called {new_name!r}")
            new_row[new_name] = value
        result.append(new_row)
    return result
