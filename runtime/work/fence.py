"""The resource owner's side of fencing: refuse a token older than one already seen.

A lock's fencing token only protects a resource if whatever holds the
resource checks it (Kleppmann's fencing). ``Fence`` is that check for an
owner that sees the writes itself (a file store, a database): it remembers
the highest token per resource and refuses a lower one. ``StaleToken`` says
the lock was taken over, so the writer's work is superseded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from lmteams.runtime.errors import LmTeamsError


class StaleToken(LmTeamsError):
    """A write carried a fencing token lower than one the resource has already seen (or no longer current)."""


class Fence:
    """Highest token seen per resource; thread-safe, so a check and its publish can be atomic."""

    def __init__(self) -> None:
        self.refused = 0
        self._highest: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, resource: str, token: int, then: Callable[[], None] | None = None) -> None:
        """Record ``token`` for ``resource`` or raise ``StaleToken``; ``then`` runs under the same lock."""
        with self._lock:
            highest = self._highest.get(resource, 0)
            if token < highest:
                self.refused += 1
                raise StaleToken(
                    f"write to {resource!r} with fencing token {token} refused: token {highest} was already seen;"
                    " the lock was taken over, so this attempt's work is superseded"
                )
            self._highest[resource] = token
            if then is not None:
                then()
