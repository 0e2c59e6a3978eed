"""JSON values as the world state holds them: finite, comparable, copyable.

A value travels through the log as JSON, so it must be one: ``None``,
``bool``, ``int``, finite ``float``, ``str``, lists and string-keyed
objects. NaN and infinity are refused at the boundary, because JSON cannot
carry them (pydantic would quietly write ``null``) and ``nan != nan`` would
break compare-and-set.

Two values are equal when their canonical JSON is equal: object key order
does not matter, but ``1`` and ``1.0`` and ``true`` are three different
values, as they are on the wire.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Annotated

from pydantic import AfterValidator, JsonValue


def _finite(value: JsonValue) -> JsonValue:
    if type(value) is str or value is None:  # the common case, and nothing to look into
        return value
    stack: list[JsonValue] = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{v!r} is not a JSON number: use a finite float, or null")
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return value


Value = Annotated[JsonValue, AfterValidator(_finite)]
"""A JSON-compatible value with no NaN or infinity anywhere inside it."""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
"""One encoder for every canonical text: ``json.dumps`` with these options builds a new one per call."""
canonical_str = json.encoder.encode_basestring
"""The canonical JSON text of a ``str`` (what `canonical` gives for one, without the encoder's set-up)."""


def canonical(value: JsonValue) -> str:
    """The value's canonical JSON text: sorted keys, no spaces (the text of ``json.dumps(value,
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``)."""
    return _CANONICAL.encode(value)


def same_value(a: JsonValue, b: JsonValue) -> bool:
    """Equality as JSON sees it (``True != 1``, ``1 != 1.0``, key order ignored)."""
    return canonical(a) == canonical(b)


def detached(value: JsonValue) -> JsonValue:
    """A deep copy, so a caller that mutates a result cannot change replicated state."""
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


def immutable(value: JsonValue) -> bool:
    """Whether ``value`` holds no list or dict, so sharing it cannot let anyone change it."""
    return not isinstance(value, (list, dict))


def brief(value: JsonValue, limit: int = 80) -> str:
    """A short printable form of a value, for rejection details."""
    text = canonical(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
