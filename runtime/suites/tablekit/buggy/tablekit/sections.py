"""Report sections for several groupings."""

from __future__ import annotations

from collections.abc import Sequence

from tablekit.report import report
from tablekit.table import Table


def report_sections(table: Table, keys: Sequence[str], name: str, n: int = 5, how: str = "sum") -> list[str]:
    """``report`` for each key in order; ValueError for no keys."""
    return [report(table, key, name, n, how) for key in keys]
