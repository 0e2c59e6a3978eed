"""Numbers as SVG writes them."""

from __future__ import annotations


def fmt(x: float) -> str:
    """x with at most 3 decimals, trailing zeros and a bare "." dropped, and no "-0": 3 -> "3", 1/3 -> "0.333"."""
    if isinstance(x, bool):
        raise TypeError("fmt takes a number, not a bool")
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return text
