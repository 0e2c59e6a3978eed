"""Polynomials with exact fraction coefficients, lowest degree first, without trailing zeros."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import zip_longest

from mathkit.fraction import Frac
from mathkit.fraction_sum import as_frac, frac_sum

Poly = list[Frac]


def poly(coefficients: Iterable[Frac | int | str]) -> Poly:
    """The polynomial with these coefficients (lowest degree first), trailing zeros removed."""
    result = [as_frac(c) for c in coefficients]
    if result and result[-1][0] == 0:
        result.pop()
    return result


def degree(p: Poly) -> int:
    """The degree; -1 for the zero polynomial."""
    return len(poly(p)) - 1


def poly_add(p: Poly, q: Poly) -> Poly:
    """p + q."""
    return poly(frac_sum([a, b]) for a, b in zip_longest(p, q, fillvalue=(0, 1)))
