"""Hypothesis profiles: ``ci`` (default, bounded for 2 cores) and ``soak``.

Select with ``HYPOTHESIS_PROFILE=soak pytest tests/consensus``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    stateful_step_count=60,
    deadline=None,
    derandomize=True,  # a fixed seed: the same examples every run
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "soak",
    max_examples=5000,
    stateful_step_count=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def anyio_backend() -> str:
    """Every async test runs on asyncio (litellm and the asyncio examples need it)."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _structlog_config_restored() -> Iterator[None]:
    """A test that runs the CLI in process configures structlog to print to its captured stderr, which pytest
    closes afterwards; restore the configuration so later tests do not log to a closed file."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
