"""Filling in missing values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def fill_missing(table: list[dict[str, Any]], defaults: Mapping[str, Any]) -> list[dict[str, Any]]:
    """New rows where each column in ``defaults`` that is missing or None gets its default."""
    result = []
    for row in table:
        new_row = dict(row)
        for name, value in defaults.items():
            if new_row.get(name) is None:
                new_row[name] = value
        result.append(new_row)
    return result
