"""Removing duplicate rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def distinct(table: list[dict[str, Any]], keys: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The first row of each distinct combination of ``keys`` (of all columns when None; key order irrelevant)."""
    seen: list[Any] = []
    result = []
    for row in table:
        if keys is None:
            identity: Any = list(row.values())
        else:
            identity = [row.get(key) for key in keys]
        if identity not in seen:
            seen.append(identity)
            result.append(row)
    return result
