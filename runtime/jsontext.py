"""Lenient JSON: what a model writes, parsed as far as JSON allows.

Small models often put raw newlines or tabs inside strings, which strict
``json.loads`` refuses; ``strict=False`` accepts control characters in
strings and nothing else, so a reply that parses means what it says.
"""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder(strict=False)


def loads_lenient(text: str) -> Any:
    """``json.loads`` that accepts control characters (raw newlines, tabs) inside strings."""
    return _DECODER.decode(text.strip())


def lenient_decoder() -> json.JSONDecoder:
    """The shared non-strict decoder (for ``raw_decode`` of JSON embedded in text)."""
    return _DECODER
