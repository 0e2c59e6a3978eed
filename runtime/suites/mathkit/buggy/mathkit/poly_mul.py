"""Scaling and multiplying polynomials."""

from __future__ import annotations

from mathkit.fraction import Frac, make
from mathkit.fraction_ops import mul
from mathkit.poly import Poly, poly, poly_add


def poly_scale(p: Poly, c: Frac) -> Poly:
    """c * p."""
    return poly(mul(a, c) for a in p)


def poly_mul(p: Poly, q: Poly) -> Poly:
    """p * q, as the sum over p's terms of q scaled and shifted."""
    result: Poly = []
    for i, a in enumerate(p):
        result = poly_add(result, [make(0)] * (i + 1) + poly_scale(q, a))
    return result
