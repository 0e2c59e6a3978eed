"""Whole SVG documents."""

from __future__ import annotations

from collections.abc import Sequence

from svgkit.bars import bar_chart
from svgkit.element import element
from svgkit.fmt import fmt
from svgkit.shapes import rect

SVG_NS = "http://www.w3.org/2000/svg"


def svg_document(width: float, height: float, *children: str, background: str | None = None) -> str:
    """``<svg xmlns=... width height viewBox="0 0 w h">``, a full-size background rect first when given."""
    parts = [rect(0, 0, width, height, fill=background)] if background else []
    return element(
        "svg",
        {"xmlns": SVG_NS, "width": width, "height": height, "viewBox": f"0 0 {fmt(width)} {fmt(height)}"},
        *parts,
        *children,
    )


def bar_chart_document(
    values: Sequence[float], labels: Sequence[str], width: float = 200, height: float = 120, margin: float = 20
) -> str:
    """A document holding ``bar_chart(values, labels, width, height, margin)`` on a white background."""
    return svg_document(width, height, bar_chart(values, labels, width, height, margin), background="white")
