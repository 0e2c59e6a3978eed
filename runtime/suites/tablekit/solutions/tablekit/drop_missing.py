"""Dropping incomplete rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def drop_missing(table: list[dict[str, Any]], columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The rows in which none of ``columns`` (every column of the table when None) is missing or None."""
    if columns is None:
        names: dict[str, None] = {}
        for row in table:
            names.update(dict.fromkeys(row))
        columns = list(names)
    return [row for row in table if all(row.get(name) is not None for name in columns)]
