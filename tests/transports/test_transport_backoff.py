"""Backoff: capped exponential ceilings, full jitter, reproducible from a seed."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmteams.transports import Backoff, TransportConfigError


def test_ceiling_doubles_until_the_cap() -> None:
    policy = Backoff(base=0.1, cap=1.0)
    assert [policy.ceiling(n) for n in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert Backoff(base=0.1, cap=3.0).ceiling(10_000) == 3.0


@given(
    base=st.floats(min_value=1e-4, max_value=10.0),
    extra=st.floats(min_value=0.0, max_value=100.0),
    multiplier=st.floats(min_value=1.0, max_value=5.0),
    attempt=st.integers(min_value=0, max_value=5_000),
    seed=st.integers(),
)
def test_delay_is_within_zero_and_the_ceiling(
    base: float, extra: float, multiplier: float, attempt: int, seed: int
) -> None:
    policy = Backoff(base=base, cap=base + extra, multiplier=multiplier)
    ceiling = policy.ceiling(attempt)
    assert base <= ceiling <= policy.cap
    assert 0.0 <= policy.delay(attempt, random.Random(seed)) <= ceiling
    assert policy.ceiling(attempt + 1) >= ceiling


def test_same_seed_same_delays_different_seed_different_delays() -> None:
    policy = Backoff(base=0.05, cap=2.0)

    def first(seed: int) -> list[float]:
        return list(itertools.islice(policy.delays(random.Random(seed)), 20))

    assert first(7) == first(7)
    assert first(7) != first(8)


def test_delays_are_jittered_not_constant() -> None:
    policy = Backoff(base=1.0, cap=1.0)
    delays = list(itertools.islice(policy.delays(random.Random(0)), 50))
    assert len(set(delays)) == 50
    assert min(delays) < 0.25 and max(delays) > 0.75  # full jitter spans [0, ceiling]


@pytest.mark.parametrize(
    "kwargs",
    [{"base": 0.0}, {"base": -1.0}, {"base": 1.0, "cap": 0.5}, {"multiplier": 0.5}, {"cap": float("inf")}],
)
def test_invalid_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(TransportConfigError):
        Backoff(**kwargs)


def test_negative_attempt_is_rejected() -> None:
    with pytest.raises(TransportConfigError):
        Backoff().ceiling(-1)
