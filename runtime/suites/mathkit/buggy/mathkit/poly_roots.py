"""Rational roots of a polynomial (rational root theorem)."""

from __future__ import annotations

from math import isqrt

from mathkit.fraction import Frac, make
from mathkit.lcm import lcm_all
from mathkit.poly import Poly, poly
from mathkit.poly_eval import evaluate


def integer_coefficients(p: Poly) -> list[int]:
    """p's coefficients times the least common multiple of their denominators."""
    scale = lcm_all(c[1] for c in p)
    return [c[0] * (scale // c[1]) for c in p]


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, isqrt(n) + 1) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})


def rational_roots(p: Poly) -> list[Frac]:
    """The distinct rational roots of p in ascending order; ValueError for the zero polynomial."""
    coefficients = integer_coefficients(poly(p))
    if not coefficients:
        raise ValueError("every number is a root of the zero polynomial")
    roots: set[Frac] = set()
    lowest = next(i for i, c in enumerate(coefficients) if c != 0)
    if lowest > 0:
        roots.add((0, 1))
    constant, leading = coefficients[lowest], coefficients[-1]
    for top in _divisors(abs(constant)):
        for bottom in _divisors(abs(leading)):
            for candidate in (make(top, bottom),):
                if evaluate(p, candidate) == (0, 1):
                    roots.add(candidate)
    return sorted(roots, key=lambda r: r[0] / r[1])
