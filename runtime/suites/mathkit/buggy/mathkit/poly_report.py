"""A short text report on a polynomial."""

from __future__ import annotations

from mathkit.poly import Poly, degree, poly
from mathkit.poly_deriv import derivative
from mathkit.poly_text import describe_roots, poly_to_text


def report(p: Poly, var: str = "x") -> str:
    """Four lines: the polynomial, its degree, its derivative and its rational roots."""
    q = poly(p)
    roots = (", ".join(describe_roots(q)) or "none") if q else "every number"
    return "\n".join(
        [
            f"p({var}) = {poly_to_text(q, var)}",
            f"degree: {degree(q)}",
            f"p'(x) = {poly_to_text(derivative(q), var)}",
            f"rational roots: {roots}",
        ]
    )
