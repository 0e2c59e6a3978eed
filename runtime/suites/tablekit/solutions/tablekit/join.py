"""Inner joins."""

from __future__ import annotations

from typing import Any


def inner_join(left: list[dict[str, Any]], right: list[dict[str, Any]], on: str) -> list[dict[str, Any]]:
    """``{**l, **r}`` for every pair of rows with equal, non-None values of ``on``; left order, then right order."""
    return [
        {**lrow, **rrow} for lrow in left if lrow.get(on) is not None for rrow in right if rrow.get(on) == lrow.get(on)
    ]
