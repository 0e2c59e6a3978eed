"""Powers of polynomials by repeated squaring."""

from __future__ import annotations

from mathkit.poly import Poly, poly
from mathkit.poly_mul import poly_mul


def poly_pow(p: Poly, n: int) -> Poly:
    """p ** n for n >= 0 (p ** 0 is the constant 1); ValueError for negative n."""
    if n < 0:
        raise ValueError(f"the exponent must be >= 0, got {n}")
    result = poly([1])
    base = p
    while n:
        if n & 1:
            result = poly_mul(result, base)
        base = poly_mul(base, base)
        n >>= 1
    return result
