"""transform attribute values."""

from __future__ import annotations


def translate(dx: float, dy: float = 0) -> str:
    """ "translate(dx dy)", numbers with :g."""
    return f"translate({dx:g} {dy:g})"


def scale(sx: float, sy: float | None = None) -> str:
    """ "scale(s)" or "scale(sx sy)" when sy is given and differs."""
    return f"scale({sx:g})" if sy is None else f"scale({sx:g} {sy:g})"


def rotate(angle: float, cx: float | None = None, cy: float | None = None) -> str:
    """ "rotate(a)", or "rotate(a cx cy)" about a centre; ValueError when only one of cx, cy is given."""
    if (cx is None) != (cy is None):
        raise ValueError("give both cx and cy, or neither")
    return f"rotate({angle:g})" if cx is None else f"rotate({angle:g} {cx:g} {cy:g})"


def combine(*transforms: str) -> str:
    """The non-empty transforms joined by spaces (applied right to left by SVG)."""
    return " ".join(t for t in transforms if t)
