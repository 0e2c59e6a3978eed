"""Derivatives and critical points of polynomials."""

from __future__ import annotations

from mathkit.fraction import Frac, make
from mathkit.fraction_ops import mul
from mathkit.poly import Poly, poly
from mathkit.poly_roots import rational_roots


def derivative(p: Poly) -> Poly:
    """p'."""
    return poly(mul(p[i], make(i)) for i in range(1, len(p)))


def critical_points(p: Poly) -> list[Frac]:
    """The rational roots of p', ascending; [] when p' is constant."""
    slope = derivative(p)
    return rational_roots(slope) if slope else []
