"""Estimating and wrapping text."""

from __future__ import annotations


def text_width(text: str, font_size: float) -> float:
    """A rough width: 0.6 * font_size per character."""
    return len(text) * font_size * 0.6


def wrap_text(text: str, max_width: float, font_size: float) -> list[str]:
    """Words greedily packed into lines whose ``text_width`` is at most max_width (a longer word gets a line of
    its own); runs of whitespace count as one space."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, font_size) >= max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines
