"""Mixing colours."""

from __future__ import annotations


def _channels(color: str) -> list[int]:
    digits = color.removeprefix("#")
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    if len(digits) != 6 or not color.startswith("#"):
        raise ValueError(f"not a hex colour: {color!r}")
    return [int(digits[i : i + 2], 16) for i in (0, 2, 4)]


def mix(a: str, b: str, t: float) -> str:
    """The colour a fraction t (0..1) of the way from hex colour a to b, each channel rounded, as "#rrggbb"."""
    if not 0 <= t <= 1:
        raise ValueError(f"t must be within 0..1, got {t}")
    mixed = [round(x + (y - x) * t) for x, y in zip(_channels(a), _channels(b))]
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


def gradient_steps(a: str, b: str, count: int) -> list[str]:
    """``count`` >= 2 colours from a to b inclusive, evenly spaced."""
    if count < 2:
        raise ValueError(f"count must be at least 2, got {count}")
    return [mix(a, b, i / (count - 1)) for i in range(count)]
