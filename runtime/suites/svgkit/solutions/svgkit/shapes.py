"""Basic shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from svgkit.attrs import escape
from svgkit.element import element
from svgkit.fmt import fmt

Point = tuple[float, float]


def rect(x: float, y: float, width: float, height: float, **style: Any) -> str:
    """A ``<rect>``; ValueError for a negative width or height."""
    if width < 0 or height < 0:
        raise ValueError(f"a rect needs a non-negative size, got {width} x {height}")
    return element("rect", {"x": x, "y": y, "width": width, "height": height, **style})


def circle(cx: float, cy: float, r: float, **style: Any) -> str:
    """A ``<circle>``; ValueError for a negative radius."""
    if r < 0:
        raise ValueError(f"a circle needs a non-negative radius, got {r}")
    return element("circle", {"cx": cx, "cy": cy, "r": r, **style})


def line(x1: float, y1: float, x2: float, y2: float, **style: Any) -> str:
    """A ``<line>``."""
    return element("line", {"x1": x1, "y1": y1, "x2": x2, "y2": y2, **style})


def text(x: float, y: float, content: str, **style: Any) -> str:
    """A ``<text>`` holding ``content``, escaped."""
    return element("text", {"x": x, "y": y, **style}, escape(content))


def points_attr(points: Sequence[Point]) -> str:
    """ "x,y x,y ..." with every number through ``fmt``."""
    return " ".join(f"{fmt(x)},{fmt(y)}" for x, y in points)


def polyline(points: Sequence[Point], **style: Any) -> str:
    """An unfilled ``<polyline>`` (fill="none" unless given); ValueError for fewer than 2 points."""
    if len(points) < 2:
        raise ValueError("a polyline needs at least 2 points")
    return element("polyline", {"points": points_attr(points), "fill": "none", **style})


def polygon(points: Sequence[Point], **style: Any) -> str:
    """A ``<polygon>``; ValueError for fewer than 3 points."""
    if len(points) < 3:
        raise ValueError("a polygon needs at least 3 points")
    return element("polygon", {"points": points_attr(points), **style})
