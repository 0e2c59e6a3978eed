"""Tests for consensus.config.RaftConfig validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lmteams.consensus import RaftConfig

INT_FIELDS = [
    "election_timeout_min",
    "election_timeout_max",
    "heartbeat_interval",
    "max_entries_per_msg",
    "max_inflight_msgs",
]


def test_defaults_are_valid() -> None:
    c = RaftConfig()
    assert c.heartbeat_interval < c.election_timeout_min < c.election_timeout_max
    assert c.max_entries_per_msg >= 1 and c.max_inflight_msgs >= 1
    # Defaults survive a revalidation of their own dump.
    assert RaftConfig(**c.model_dump()) == c
    assert RaftConfig.model_validate(c.model_dump()) == c


def test_valid_custom_values() -> None:
    c = RaftConfig(
        election_timeout_min=4, election_timeout_max=5, heartbeat_interval=3, pre_vote=False, check_quorum=False
    )
    assert (c.election_timeout_min, c.election_timeout_max, c.heartbeat_interval) == (4, 5, 3)
    assert c.pre_vote is False and c.check_quorum is False


@pytest.mark.parametrize("heartbeat", [10, 11, 50])
def test_heartbeat_not_shorter_than_election_timeout_rejected(heartbeat: int) -> None:
    with pytest.raises(ValidationError) as info:
        RaftConfig(election_timeout_min=10, election_timeout_max=100, heartbeat_interval=heartbeat)
    assert "heartbeat_interval" in str(info.value)


def test_heartbeat_one_below_min_accepted() -> None:
    assert RaftConfig(election_timeout_min=10, election_timeout_max=20, heartbeat_interval=9).heartbeat_interval == 9


@pytest.mark.parametrize("max_", [10, 9, 3])
def test_max_not_above_min_rejected(max_: int) -> None:
    with pytest.raises(ValidationError) as info:
        RaftConfig(election_timeout_min=10, election_timeout_max=max_, heartbeat_interval=2)
    text = str(info.value)
    assert "election_timeout_max" in text


def test_max_one_above_min_accepted() -> None:
    c = RaftConfig(election_timeout_min=10, election_timeout_max=11, heartbeat_interval=2)
    assert c.election_timeout_max == 11


@pytest.mark.parametrize("field", INT_FIELDS)
@pytest.mark.parametrize("value", [0, -1, -100])
def test_non_positive_values_rejected(field: str, value: int) -> None:
    with pytest.raises(ValidationError) as info:
        RaftConfig(**{field: value})
    assert field in str(info.value)


def test_election_timeout_min_of_one_rejected() -> None:
    # ge=2: with min=1 no heartbeat interval (>= 1) could be shorter.
    with pytest.raises(ValidationError):
        RaftConfig(election_timeout_min=1, election_timeout_max=5, heartbeat_interval=1)


def test_unknown_fields_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        RaftConfig(election_timeout=10)  # type: ignore[call-arg]
    assert "election_timeout" in str(info.value)
    with pytest.raises(ValidationError):
        RaftConfig.model_validate({"heartbeat": 1})


def test_frozen() -> None:
    c = RaftConfig()
    with pytest.raises(ValidationError):
        c.heartbeat_interval = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        c.pre_vote = False  # type: ignore[misc]
    assert c.heartbeat_interval == RaftConfig().heartbeat_interval
    assert c.pre_vote is True
    # frozen pydantic models are hashable and compare by value
    assert hash(c) == hash(RaftConfig())


def test_model_copy_is_the_way_to_change_settings() -> None:
    c = RaftConfig().model_copy(update={"pre_vote": False})
    assert c.pre_vote is False
    assert RaftConfig().pre_vote is True


def test_snapshot_settings() -> None:
    c = RaftConfig()
    assert c.snapshot_threshold == 10_000 and c.snapshot_chunk_bytes == 64 * 1024
    assert RaftConfig(snapshot_threshold=None).snapshot_threshold is None
    assert RaftConfig(snapshot_threshold=0, snapshot_chunk_bytes=1).snapshot_chunk_bytes == 1
    for bad in (dict(snapshot_threshold=-1), dict(snapshot_chunk_bytes=0), dict(snapshot_chunk_bytes=2 * 1024 * 1024)):
        with pytest.raises(ValidationError) as info:
            RaftConfig(**bad)  # type: ignore[arg-type]
        assert next(iter(bad)) in str(info.value)
