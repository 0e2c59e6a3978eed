"""Minifying SVG text."""

from __future__ import annotations

import re


def minify(svg: str) -> str:
    """``svg`` without XML comments, without whitespace between tags, and stripped at both ends."""
    without_comments = re.sub(r"<!--.*?-->", "", svg)
    return re.sub(r">\s+<", "><", without_comments).strip()
