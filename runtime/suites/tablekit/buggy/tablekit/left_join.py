"""Left joins."""

from __future__ import annotations

from typing import Any


def left_join(left: list[dict[str, Any]], right: list[dict[str, Any]], on: str) -> list[dict[str, Any]]:
    """Like an inner join on non-None ``on`` values, but a left row without a match is kept, with None for every
    column of ``right`` (in order of first appearance) that it does not have."""
    right_columns: dict[str, None] = {}
    for row in right:
        right_columns.update(dict.fromkeys(row))
    result = []
    for lrow in left:
        key = lrow.get(on)
        matches = [rrow for rrow in right if key is not None and rrow.get(on) == key]
        if matches:
            result.extend({**lrow, **rrow} for rrow in matches)
        else:
            result.append(dict(lrow))
    return result
