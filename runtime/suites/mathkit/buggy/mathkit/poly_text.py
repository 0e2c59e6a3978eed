"""Polynomials and their roots as text."""

from __future__ import annotations

from mathkit.fraction_text import to_text
from mathkit.poly import Poly, poly
from mathkit.poly_factor import roots_with_multiplicity


def poly_to_text(p: Poly, var: str = "x") -> str:
    """Highest degree first, e.g. "x^2 - 3/2x + 1"; "0" for the zero polynomial."""
    terms: list[str] = []
    q = poly(p)
    for i in range(len(q) - 1, -1, -1):
        c = q[i]
        if c[0] == 0:
            continue
        magnitude = to_text((abs(c[0]), c[1]))
        if i == 0:
            body = magnitude
        else:
            coeff = magnitude
            body = coeff + var + (f"^{i}" if i > 1 else "")
        if not terms:
            terms.append(("-" if c[0] < 0 else "") + body)
        else:
            terms.append(("- " if c[0] < 0 else "+ ") + body)
    return " ".join(terms) or "0"


def describe_roots(p: Poly) -> list[str]:
    """Each rational root as text, ascending, with "(multiplicity k)" when k > 1."""
    return [to_text(r) + (f" (multiplicity {k})" if k > 1 else "") for r, k in roots_with_multiplicity(p)]
