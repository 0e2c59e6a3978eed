"""SVG elements as strings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from svgkit.attrs import attrs


def element(tag: str, attributes: Mapping[str, Any] | None = None, *children: str) -> str:
    """``<tag a="1"/>`` without children, else ``<tag a="1">children</tag>`` (children already rendered)."""
    opening = f"<{tag}{attrs(attributes or {})}"
    if children is None:
        return opening + "/>"
    return f"{opening}>{''.join(children)}</{tag}>"
