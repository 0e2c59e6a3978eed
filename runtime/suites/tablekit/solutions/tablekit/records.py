"""Rows to columns and back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def to_columns(table: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """``{column: values in row order}``, columns in first-appearance order, None where a row lacks one."""
    names: dict[str, None] = {}
    for row in table:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in table] for name in names}


def from_columns(data: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The rows of columnar ``data``; ValueError when the columns differ in length."""
    lengths = {len(values) for values in data.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {sorted(lengths)}")
    size = lengths.pop() if lengths else 0
    return [{name: values[i] for name, values in data.items()} for i in range(size)]
