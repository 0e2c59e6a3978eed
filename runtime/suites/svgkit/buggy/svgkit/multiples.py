"""Small multiples: one sparkline per series on a grid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from svgkit.document import svg_document
from svgkit.element import element
from svgkit.fmt import fmt
from svgkit.shapes import text
from svgkit.sparkline import sparkline_shapes


def small_multiples(
    series: Mapping[str, Sequence[float]], columns: int = 2, cell_width: float = 100, cell_height: float = 30
) -> str:
    """A document with a grid of cells, row by row; each cell is a translated ``<g>`` with the series name
    at (2, 10) and its sparkline shapes. ValueError for no series or columns < 1."""
    if not series or columns < 1:
        raise ValueError("need at least one series and one column")
    cells = []
    for i, (name, values) in enumerate(series.items()):
        x, y = (i % columns) * cell_width, (i // columns) * cell_height
        cells.append(
            element(
                "g",
                {"transform": f"translate({fmt(x)} {fmt(y)})"},
                text(2, 10, name, font_size=8),
                *sparkline_shapes(values, cell_width, cell_height),
            )
        )
    rows = len(series) // columns
    return svg_document(columns * cell_width, rows * cell_height, *cells)
