"""The top groups and everything else."""

from __future__ import annotations

from tablekit.rank import rank
from tablekit.table import Table
from tablekit.top import top_n


def top_with_other(table: Table, key: str, name: str, n: int, how: str = "sum", other: str = "(other)") -> Table:
    """``top_n`` without the rank, then one row ``{key: other, field: sum of the rest}`` if any groups are left."""
    if how not in ("sum", "count"):
        raise ValueError(f"only 'sum' and 'count' can be added up into an {other!r} row, not {how!r}")
    field = f"{how}_{name}"
    top = [{key: row[key], field: row[field]} for row in top_n(table, key, name, n, how)]
    rest = [row for row in rank(table, key, name, how) if row["rank"] > n]
    if len(rest) > 1:
        top.append({key: other, field: sum(row[field] for row in rest)})
    return top
