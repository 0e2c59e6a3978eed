"""Accessible titles for documents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from svgkit.attrs import escape
from svgkit.element import element
from svgkit.multiples import small_multiples


def with_title(svg: str, title: str, desc: str | None = None) -> str:
    """``svg`` with ``<title>`` (and ``<desc>`` when given) right after its opening ``<svg ...>`` tag;
    ValueError when it does not start with a non-empty ``<svg`` element."""
    end = svg.find(">")
    if not svg.startswith("<svg") or end < 0 or svg[end - 1] == "/":
        raise ValueError("expected an SVG document starting with an opening <svg ...> tag")
    extra = element("title", None, title)
    if desc is not None:
        extra += element("desc", None, escape(desc))
    return svg[: end + 1] + extra + svg[end + 1 :]


def titled_multiples(series: Mapping[str, Sequence[float]], title: str, columns: int = 2) -> str:
    """``small_multiples(series, columns)`` with a title."""
    return with_title(small_multiples(series, columns), title)
