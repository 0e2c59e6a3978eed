"""Multiplicities of rational roots."""

from __future__ import annotations

from mathkit.fraction import Frac
from mathkit.fraction_sum import as_frac
from mathkit.poly import Poly, poly
from mathkit.poly_deriv import derivative
from mathkit.poly_eval import evaluate
from mathkit.poly_roots import rational_roots


def multiplicity(p: Poly, r: Frac | int | str) -> int:
    """How many times r is a root of p: the number of successive derivatives vanishing at r."""
    q = poly(p)
    if not q:
        raise ValueError("every number is a root of the zero polynomial")
    point = as_frac(r)
    count = 0
    while q and evaluate(q, point) == (0, 1):
        count += 1
        q = derivative(q)
    return count


def roots_with_multiplicity(p: Poly) -> list[tuple[Frac, int]]:
    """``(root, multiplicity)`` for each distinct rational root, ascending."""
    return [(r, multiplicity(p, r)) for r in rational_roots(p)]
