"""Sums and means of fractions given as pairs, integers or text."""

from __future__ import annotations

from collections.abc import Iterable

from mathkit.fraction import Frac, add, make
from mathkit.fraction_ops import div
from mathkit.fraction_text import parse


def as_frac(value: Frac | int | str) -> Frac:
    """A reduced fraction from a pair, an integer or text such as "1 1/2"."""
    if isinstance(value, str):
        return parse(value)
    if isinstance(value, int):
        return make(value)
    return make(value[0], value[1])


def frac_sum(values: Iterable[Frac | int | str]) -> Frac:
    """The exact sum; (0, 1) for no values."""
    total = make(0)
    for value in values:
        total = add(total, as_frac(value))
    return total


def frac_mean(values: Iterable[Frac | int | str]) -> Frac:
    """The exact arithmetic mean; ValueError for no values."""
    items = [as_frac(value) for value in values]
    if not items:
        raise ValueError("the mean of no values is undefined")
    return div(frac_sum(values), make(len(items)))
