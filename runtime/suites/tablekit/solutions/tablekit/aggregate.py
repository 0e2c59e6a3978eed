"""One statistic per group."""

from __future__ import annotations

from tablekit.groups import group_by
from tablekit.summary import summarize
from tablekit.table import Table

HOWS = ("count", "sum", "mean", "min", "median", "max")


def aggregate(table: Table, key: str, name: str, how: str = "sum") -> Table:
    """One row per group of ``key``: ``{key: group, f"{how}_{name}": summarize(group, name)[how]}``."""
    if how not in HOWS:
        raise ValueError(f"unknown aggregate {how!r}; choose one of {', '.join(HOWS)}")
    return [{key: value, f"{how}_{name}": summarize(rows, name)[how]} for value, rows in group_by(table, key).items()]
