"""Hex colours."""

from __future__ import annotations

import re

_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """ "#ff8800" or "#f80" (any case) as (255, 136, 0); ValueError for anything else."""
    match = _HEX.fullmatch(color)
    if match is None:
        raise ValueError(f"not a hex colour: {color!r}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = digits * 2
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def rgb_to_hex(rgb: tuple[int, int, int]) -> str:
    """(255, 136, 0) as "#ff8800"; ValueError for a channel outside 0..255."""
    if any(not 0 <= channel <= 255 for channel in rgb):
        raise ValueError(f"channels must be within 0..255, got {rgb}")
    return "#" + "".join(f"{channel:02x}" for channel in rgb)
