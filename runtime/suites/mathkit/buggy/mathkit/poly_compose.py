"""Composition of polynomials."""

from __future__ import annotations

from mathkit.poly import Poly, poly_add
from mathkit.poly_mul import poly_scale
from mathkit.poly_pow import poly_pow


def compose(p: Poly, q: Poly) -> Poly:
    """p(q(x)): the sum of p's coefficient i times q ** i."""
    result: Poly = []
    for i, a in enumerate(p, start=1):
        result = poly_add(result, poly_scale(poly_pow(q, i), a))
    return result
