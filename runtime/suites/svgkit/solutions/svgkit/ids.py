"""Element ids."""

from __future__ import annotations

import re
from collections.abc import Iterable


def slug_id(text: str) -> str:
    """A valid id: lower-case, runs of other characters than a-z 0-9 as one "-", no "-" at the ends,
    prefixed "id-" unless it starts with a letter ("" gives "id-")."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug if slug[:1].isalpha() else f"id-{slug}"


def unique_ids(names: Iterable[str]) -> list[str]:
    """``slug_id`` of each name, with "-2", "-3", ... added to repeats so all differ."""
    seen: set[str] = set()
    result = []
    for name in names:
        base = candidate = slug_id(name)
        count = 1
        while candidate in seen:
            count += 1
            candidate = f"{base}-{count}"
        seen.add(candidate)
        result.append(candidate)
    return result
