"""Choosing columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def select(table: list[dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """New rows holding only ``names``, in that order, None where a row lacks one."""
    return [{name: row[name] for name in names} for row in table]
