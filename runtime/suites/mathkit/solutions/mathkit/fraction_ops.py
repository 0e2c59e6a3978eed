"""Negation, subtraction, multiplication and division of fractions."""

from __future__ import annotations

from mathkit.fraction import Frac, add, make


def neg(x: Frac) -> Frac:
    """-x."""
    return make(-x[0], x[1])


def sub(x: Frac, y: Frac) -> Frac:
    """x - y."""
    return add(x, neg(y))


def mul(x: Frac, y: Frac) -> Frac:
    """x * y, reduced."""
    return make(x[0] * y[0], x[1] * y[1])


def div(x: Frac, y: Frac) -> Frac:
    """x / y; ZeroDivisionError when y is zero."""
    if y[0] == 0:
        raise ZeroDivisionError("cannot divide by the zero fraction")
    return make(x[0] * y[1], x[1] * y[0])
