"""Evaluating and shifting polynomials."""

from __future__ import annotations

from mathkit.fraction import Frac, add
from mathkit.fraction_ops import mul
from mathkit.fraction_sum import as_frac
from mathkit.poly import Poly, poly
from mathkit.poly_compose import compose


def evaluate(p: Poly, x: Frac | int | str) -> Frac:
    """p(x), exactly, by Horner's rule."""
    point = as_frac(x)
    result: Frac = (0, 1)
    for c in reversed(p):
        result = add(mul(result, point), c)
    return result


def shift(p: Poly, a: Frac | int | str) -> Poly:
    """The polynomial x -> p(x + a)."""
    return compose(p, poly([a, 1]))
