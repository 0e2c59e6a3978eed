"""Roman numerals."""

from __future__ import annotations

_TABLE = [
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (1, "I"),
]
_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def to_roman(n: int) -> str:
    """n in 1..3999 as a Roman numeral; ValueError otherwise."""
    if not 1 <= n <= 3999:
        raise ValueError(f"Roman numerals cover 1 to 3999, got {n}")
    out = []
    for value, letters in _TABLE:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def from_roman(text: str) -> int:
    """The value of an upper-case Roman numeral (subtractive pairs allowed); ValueError on other letters."""
    if not text or any(ch not in _VALUES for ch in text):
        raise ValueError(f"not a Roman numeral: {text!r}")
    total = 0
    for i, ch in enumerate(text):
        value = _VALUES[ch]
        if i + 1 < len(text) and _VALUES[text[i + 1]] > value:
            total -= value
        else:
            total += value
    return total
