"""Bounding boxes of simple paths."""

from __future__ import annotations

import re


def path_bbox(d: str) -> tuple[float, float, float, float]:
    """(min x, min y, max x, max y) of the points of a path using only absolute M, L, H, V and Z commands."""
    tokens = re.findall(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)", d)
    xs: list[float] = []
    ys: list[float] = []
    x = y = 0.0
    i = 0
    while i < len(tokens):
        command = tokens[i]
        i += 1
        if command in "ML":
            x, y = float(tokens[i]), float(tokens[i + 1])
            i += 2
        elif command == "H":
            x = float(tokens[i])
            i += 1
        elif command == "V":
            y = float(tokens[i])
            i += 1
        elif command == "Z":
            continue
        else:
            raise ValueError(f"unsupported path command {command!r}: use absolute M, L, H, V, Z")
        xs.append(x)
        ys.append(y)
    if not xs:
        raise ValueError("the path has no points")
    return min(xs), min(ys), max(xs), max(ys)
