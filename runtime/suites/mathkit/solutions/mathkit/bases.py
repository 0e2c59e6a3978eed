"""Integers in bases 2 to 36."""

from __future__ import annotations

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _check(base: int) -> None:
    if not 2 <= base <= 36:
        raise ValueError(f"base must be between 2 and 36, got {base}")


def to_base(n: int, base: int) -> str:
    """n written in ``base`` with lower-case digits, "-" for negatives, "0" for 0."""
    _check(base)
    if n == 0:
        return "0"
    digits = []
    magnitude = abs(n)
    while magnitude:
        magnitude, d = divmod(magnitude, base)
        digits.append(DIGITS[d])
    return ("-" if n < 0 else "") + "".join(reversed(digits))


def from_base(text: str, base: int) -> int:
    """The integer ``text`` denotes in ``base`` (case-insensitive, optional "-"); ValueError on a bad digit."""
    _check(base)
    text = text.strip().lower()
    sign = -1 if text.startswith("-") else 1
    body = text.removeprefix("-")
    if not body:
        raise ValueError("no digits to read")
    value = 0
    for ch in body:
        d = DIGITS.find(ch)
        if d < 0 or d >= base:
            raise ValueError(f"{ch!r} is not a digit in base {base}")
        value = value * base + d
    return sign * value
