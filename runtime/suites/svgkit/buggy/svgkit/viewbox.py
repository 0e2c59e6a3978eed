"""viewBox values."""

from __future__ import annotations

import re
from collections.abc import Sequence


def parse_viewbox(text: str) -> tuple[float, float, float, float]:
    """ "min-x min-y width height" (spaces and/or commas) as floats; ValueError unless 4 numbers with positive size."""
    parts = [p for p in re.split(r"[\s,]+", text.strip()) if p]
    if len(parts) != 4:
        raise ValueError(f"a viewBox has 4 numbers, got {text!r}")
    x, y, w, h = (float(p) for p in parts)
    if w <= 0 or h <= 0:
        raise ValueError(f"a viewBox needs a positive width and height, got {text!r}")
    return x, y, w, h


def fit_viewbox(points: Sequence[tuple[float, float]], padding: float = 0) -> str:
    """The viewBox string (numbers with :g) enclosing every point plus ``padding`` on each side."""
    if not points:
        raise ValueError("no points to fit")
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x, y = min(xs) - padding, min(ys) - padding
    w, h = max(xs) - min(xs) + padding, max(ys) - min(ys) + 2 * padding
    return f"{x:g} {y:g} {w:g} {h:g}"
