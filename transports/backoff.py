"""Capped exponential backoff with full jitter.

The n-th retry (counting from 0) waits a time drawn uniformly from
``[0, min(cap, base * multiplier**n)]`` ("full jitter", see the AWS
architecture blog post "Exponential Backoff And Jitter"). Jitter spreads
retries of many clients apart; the cap bounds the wait once a peer has been
down for a while.

The policy is a frozen value; randomness comes from a `random.Random` the
caller passes in, so a seeded generator makes the delays reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from lmteams.transports.base import TransportConfigError

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """A capped exponential backoff policy with full jitter.

    >>> policy = Backoff(base=0.1, cap=2.0)
    >>> policy.ceiling(0), policy.ceiling(3), policy.ceiling(10)
    (0.1, 0.8, 2.0)
    """

    base: float = 0.05
    cap: float = 5.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.base) and self.base > 0):
            raise TransportConfigError(f"Backoff.base must be a positive number of seconds, got {self.base!r}")
        if not (math.isfinite(self.cap) and self.cap >= self.base):
            raise TransportConfigError(f"Backoff.cap must be finite and at least base={self.base!r}, got {self.cap!r}")
        if not (math.isfinite(self.multiplier) and self.multiplier >= 1):
            raise TransportConfigError(f"Backoff.multiplier must be >= 1, got {self.multiplier!r}")

    def ceiling(self, attempt: int) -> float:
        """The largest delay of retry number `attempt` (0-based): ``min(cap, base * multiplier**attempt)``."""
        if attempt < 0:
            raise TransportConfigError(f"attempt must be >= 0, got {attempt}")
        try:
            return min(self.cap, self.base * self.multiplier**attempt)
        except OverflowError:
            return self.cap

    def delay(self, attempt: int, rng: random.Random) -> float:
        """A delay for retry number `attempt`, uniform in ``[0, ceiling(attempt)]``."""
        return rng.uniform(0.0, self.ceiling(attempt))

    def delays(self, rng: random.Random) -> Iterator[float]:
        """The endless sequence of delays for retries 0, 1, 2, ..."""
        attempt = 0
        while True:
            yield self.delay(attempt, rng)
            attempt += 1
