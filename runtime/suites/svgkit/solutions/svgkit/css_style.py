"""style attribute values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def style_string(properties: Mapping[str, Any]) -> str:
    """ "name: value; name: value" in order, "_" in names as "-", None values left out."""
    return "; ".join(f"{name.replace('_', '-')}: {value}" for name, value in properties.items() if value is not None)


def parse_style(text: str) -> dict[str, str]:
    """ "fill:red; stroke-width: 2" as {"fill": "red", "stroke-width": "2"}; empty parts ignored, names lower-cased,
    later duplicates win; ValueError for a part without ":"."""
    result: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition(":")
        if not sep:
            raise ValueError(f"a style declaration needs 'name: value', got {part.strip()!r}")
        result[name.strip().lower()] = value.strip()
    return result
