"""Rounding half away from zero, as taught at school."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def round_half_up(x: float, ndigits: int = 0) -> float:
    """x rounded to ``ndigits`` decimals with halves away from zero, reading x as its shortest repr."""
    quantum = Decimal(1).scaleb(-ndigits)
    return float(Decimal(x).quantize(quantum, rounding=ROUND_HALF_UP))
