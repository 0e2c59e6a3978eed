"""Escaping text and writing attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from svgkit.fmt import fmt


def escape(text: str) -> str:
    """``text`` with & < > and " replaced by entities."""
    return text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("&", "&amp;")


def attrs(values: Mapping[str, Any]) -> str:
    """' name="value"' for each item: None skipped, numbers through ``fmt``, the rest escaped text;
    a trailing "_" is dropped from a name and other "_" become "-" (stroke_width -> stroke-width, class_ -> class)."""
    parts = []
    for key, value in values.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = fmt(value)
        else:
            text = escape(str(value))
        parts.append(f' {name}="{text}"')
    return "".join(parts)
