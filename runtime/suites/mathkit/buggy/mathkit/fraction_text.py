"""Fractions to and from text: "3/4", "-2", mixed numbers "1 1/2"."""

from __future__ import annotations

import re

from mathkit.fraction import Frac, add, make
from mathkit.fraction_ops import neg, sub

_PATTERN = re.compile(r"(-)?(?:(\d+)\s+)?(\d+)(?:/(\d+))?")


def parse(text: str) -> Frac:
    """Read "3/4", "-2", "1 1/2" or "-1 1/2" (meaning -(1 + 1/2)); ValueError for anything else."""
    match = _PATTERN.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a fraction: {text!r}; write e.g. '3/4', '-2' or '1 1/2'")
    sign, whole, top, bottom = match.groups()
    if whole is not None and bottom is None:
        raise ValueError(f"not a fraction: {text!r}; a mixed number needs a fraction part, e.g. '1 1/2'")
    value = make(int(top), int(bottom) if bottom else 1)
    if whole is not None:
        value = add(make(int(whole)), value)
    return neg(value) if sign else value


def to_text(x: Frac) -> str:
    """ "3/4", or "-2" when the reduced denominator is 1."""
    x = make(*x)
    return str(x[0]) if x[1] == 1 else f"{x[0]}/{x[1]}"


def to_mixed(x: Frac) -> str:
    """A mixed number: "1 1/2", "-1 1/2"; like ``to_text`` when the magnitude is below 1 or whole."""
    x = make(*x)
    magnitude = make(abs(x[0]), x[1])
    whole = abs(x[0] // x[1])
    if whole == 0 or magnitude[1] == 1:
        return to_text(x)
    rest = sub(magnitude, make(whole))
    sign = "-" if x[0] < 0 else ""
    return f"{sign}{whole} {rest[0]}/{rest[1]}"
