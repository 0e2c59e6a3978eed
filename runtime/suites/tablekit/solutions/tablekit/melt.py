"""Wide to long."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def melt(
    table: list[dict[str, Any]],
    id_columns: Sequence[str],
    value_columns: Sequence[str],
    var_name: str = "variable",
    value_name: str = "value",
) -> list[dict[str, Any]]:
    """For each row, then each value column: the id columns plus ``{var_name: column, value_name: value}``."""
    return [
        {**{name: row.get(name) for name in id_columns}, var_name: column, value_name: row.get(column)}
        for row in table
        for column in value_columns
    ]
