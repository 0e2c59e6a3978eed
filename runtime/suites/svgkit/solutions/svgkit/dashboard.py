"""Dashboards: several documents on a grid inside one."""

from __future__ import annotations

from collections.abc import Sequence

from svgkit.document import svg_document
from svgkit.fmt import fmt
from svgkit.titled import with_title


def dashboard(
    panels: Sequence[str], title: str, columns: int = 2, cell_width: float = 200, cell_height: float = 120
) -> str:
    """A titled document with each panel (an ``<svg`` document) nested at x, y of its grid cell, row by row."""
    if not panels or columns < 1 or not all(panel.startswith("<svg") for panel in panels):
        raise ValueError("need at least one panel, each an <svg ...> document, and at least one column")
    placed = []
    for i, panel in enumerate(panels):
        x, y = (i % columns) * cell_width, (i // columns) * cell_height
        placed.append(panel.replace("<svg", f'<svg x="{fmt(x)}" y="{fmt(y)}"', 1))
    rows = -(-len(panels) // columns)
    return with_title(svg_document(columns * cell_width, rows * cell_height, *placed), title)
