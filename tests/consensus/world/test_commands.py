"""The boundary: commands and proposals are validated strictly, and encode/decode round-trips."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from lmteams.consensus.world import (
    MAX_LEASE_S,
    MAX_PROPOSAL_BYTES,
    AcquireLock,
    Cas,
    CheckFence,
    ClaimTask,
    CompleteTask,
    Delete,
    Get,
    InvalidCommand,
    ListTasks,
    Proposal,
    Put,
    ReleaseLock,
    ReleaseTask,
    RenewClaim,
    RenewLock,
    TaskStatus,
    TaskStatusQuery,
    decode_proposal,
    encode_proposal,
    parse_command,
)

EVERY_COMMAND = [
    Put(key="k", value={"nested": [1, 2.5, None, True, "s"]}),
    Get(key="k"),
    Delete(key="k"),
    Cas(key="k", expected=None, new=3),
    ClaimTask(task="t", agent="a"),
    ClaimTask(task="t", agent="a", lease_s=30),
    RenewClaim(task="t", agent="a", lease_s=2.5),
    ReleaseTask(task="t", agent="a"),
    CompleteTask(task="t", agent="a", result={"tests": "passed"}),
    TaskStatusQuery(task="t"),
    ListTasks(status=TaskStatus.OPEN),
    AcquireLock(resource="src/app.py", agent="a", lease_s=10),
    RenewLock(resource="src/app.py", agent="a", token=4, lease_s=10),
    ReleaseLock(resource="src/app.py", agent="a", token=4),
    CheckFence(resource="src/app.py", token=4),
]


def proposal_json(**fields: object) -> bytes:
    doc = {"client_id": "c", "seq": 1, "stamp": 1.0, "command": {"op": "get", "key": "k"}}
    doc.update(fields)
    return json.dumps(doc).encode()


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=lambda c: c.op)
def test_every_command_round_trips_through_a_proposal(command: object) -> None:
    p = Proposal(client_id="agent-1", seq=7, ack_below=3, command=command, stamp=1712.25)
    back = decode_proposal(encode_proposal(p))
    assert back == p
    assert type(back.command) is type(command)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"\xff\xfe garbage", "Invalid JSON"),
        (b"[1, 2]", "(top level)"),
        (proposal_json(command={"op": "launch_missiles"}), "'launch_missiles'"),
        (proposal_json(command={"key": "k"}), "command: Unable to extract tag using discriminator 'op'"),
        (proposal_json(command={"op": "put", "key": "k"}), "command.put.value: Field required"),
        (proposal_json(command={"op": "put", "key": "", "value": 1}), "command.put.key"),
        (proposal_json(command={"op": "put", "key": "   ", "value": 1}), "blank"),
        (proposal_json(command={"op": "put", "key": "k", "value": 1, "extra": 2}), "command.put.extra"),
        (
            proposal_json(command={"op": "claim_task", "task": "t", "agent": "a", "lease_s": -1}),
            "command.claim_task.lease_s: Input should be greater than 0",
        ),
        (
            proposal_json(command={"op": "acquire_lock", "resource": "r", "agent": "a", "lease_s": 0}),
            "command.acquire_lock.lease_s: Input should be greater than 0",
        ),
        (
            proposal_json(command={"op": "acquire_lock", "resource": "r", "agent": "a", "lease_s": MAX_LEASE_S + 1}),
            "lease_s: Input should be less than or equal to 86400",
        ),
        (
            proposal_json(command={"op": "acquire_lock", "resource": "r", "agent": "a", "lease_s": "10"}),
            "lease_s: Input should be a valid number",
        ),
        (proposal_json(command={"op": "check_fence", "resource": "r", "token": 0}), "command.check_fence.token"),
        (proposal_json(seq=0), "seq: Input should be greater than or equal to 1"),
        (proposal_json(seq="1"), "seq: Input should be a valid integer"),
        (proposal_json(seq=True), "seq: Input should be a valid integer"),
        (proposal_json(client_id=""), "client_id"),
        (proposal_json(stamp=-1), "stamp: Input should be greater than or equal to 0"),
        (proposal_json(stamp=float("inf")), "stamp: Input should be a finite number"),
        (proposal_json(ack_below=2), "ack_below (2) exceeds seq (1)"),
        (proposal_json(surprise=1), "surprise: Extra inputs are not permitted"),
        (b'{"client_id":"c","seq":1,"stamp":1,"command":{"op":"put","key":"k","value":NaN}}', "nan is not a JSON"),
    ],
)
def test_decode_proposal_names_the_problem(data: bytes, fragment: str) -> None:
    with pytest.raises(InvalidCommand) as info:
        decode_proposal(data)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_oversized_proposals_are_refused_both_ways() -> None:
    big = Proposal(client_id="c", seq=1, command=Put(key="k", value="x" * MAX_PROPOSAL_BYTES), stamp=0)
    with pytest.raises(InvalidCommand, match="limit"):
        encode_proposal(big)
    with pytest.raises(InvalidCommand, match="limit"):
        decode_proposal(b" " * (MAX_PROPOSAL_BYTES + 1))


def test_decode_proposal_refuses_non_bytes() -> None:
    with pytest.raises(InvalidCommand, match="not str"):
        decode_proposal('{"client_id": "c"}')  # type: ignore[arg-type]


def test_models_are_frozen_and_validate_on_construction() -> None:
    put = Put(key="k", value=1)
    with pytest.raises(ValidationError):
        put.key = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="finite float"):
        Put(key="k", value={"x": [float("nan")]})
    with pytest.raises(ValidationError):
        ClaimTask(task="t", agent="a", lease_s=-0.1)
    with pytest.raises(ValidationError):
        Proposal(client_id="c", seq=1, command=Get(key="k"), stamp=0, ack_below=5)


def test_parse_command_accepts_json_and_mappings_and_names_problems() -> None:
    assert parse_command(b'{"op":"get","key":"k"}') == Get(key="k")
    assert parse_command({"op": "list_tasks", "status": "open"}) == ListTasks(status=TaskStatus.OPEN)
    with pytest.raises(InvalidCommand, match="check_fence.token"):
        parse_command({"op": "check_fence", "resource": "r"})
    with pytest.raises(InvalidCommand, match="not int"):
        parse_command(5)  # type: ignore[arg-type]
