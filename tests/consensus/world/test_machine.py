"""WorldState as a state machine: bad entries, committed time, queries, key-values, snapshots."""

from __future__ import annotations

import json

import pytest

from lmteams.consensus.world import (
    AcquireLock,
    Applied,
    Cas,
    CheckFence,
    ClaimTask,
    CompleteTask,
    Delete,
    Get,
    ListTasks,
    NotReadOnly,
    Put,
    Rejected,
    RejectReason,
    ReleaseLock,
    ReleaseTask,
    RenewClaim,
    RenewLock,
    SnapshotError,
    TaskStatusQuery,
    WorldState,
)

from .support import Client


def busy_world() -> WorldState:
    w, c = WorldState(), Client("c")
    w.apply(c.propose(Put(key="k", value={"a": [1, 2]}), stamp=10))
    w.apply(c.propose(ClaimTask(task="t", agent="A", lease_s=30), stamp=11))
    w.apply(c.propose(AcquireLock(resource="r", agent="A", lease_s=30), stamp=12))
    return w


def entry(command: dict[str, object], **fields: object) -> bytes:
    doc: dict[str, object] = {"client_id": "c", "seq": 4, "stamp": 999.0, "command": command}
    doc.update(fields)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x00\x01 not json", "Invalid JSON"),
        (b"", "empty"),
        (entry({"op": "format_disk", "path": "/"}), "'format_disk'"),
        (entry({"op": "put", "value": 1}), "command.put.key: Field required"),
        (entry({"op": "claim_task", "task": "t", "agent": "B", "lease_s": -5}), "command.claim_task.lease_s"),
        (entry({"op": "acquire_lock", "resource": "r", "agent": "B", "lease_s": 1e9}), "less than or equal to 86400"),
        (entry({"op": "get", "key": "k"}, seq=-1), "seq"),
    ],
)
def test_a_malformed_entry_is_rejected_and_changes_nothing(data: bytes, fragment: str) -> None:
    w = busy_world()
    before = w.snapshot()
    result = w.apply(data)
    assert isinstance(result, Rejected)
    assert result.reason is RejectReason.INVALID_COMMAND
    assert fragment in result.detail
    assert w.snapshot() == before
    assert w.clock == 12  # the entry's stamp of 999 was not taken


def test_apply_never_raises_on_a_wrong_type() -> None:
    result = WorldState().apply("not bytes")  # type: ignore[arg-type]
    assert isinstance(result, Rejected) and result.reason is RejectReason.INVALID_COMMAND


def test_committed_time_never_goes_backwards() -> None:
    w, c = WorldState(), Client("c")
    clocks = []
    for stamp in (5.0, 3.0, 7.0, 2.0, 7.0, 7.5):
        w.apply(c.propose(Get(key="k"), stamp=stamp))
        clocks.append(w.clock)
    assert clocks == [5.0, 5.0, 7.0, 7.0, 7.0, 7.5]


def test_leases_are_measured_from_committed_time_not_the_stamp() -> None:
    w, c = WorldState(), Client("c")
    w.apply(c.propose(Get(key="k"), stamp=50))
    late_leader = w.apply(c.propose(ClaimTask(task="t", agent="A", lease_s=10), stamp=20))  # a lagging clock
    assert isinstance(late_leader, Applied) and late_leader.value["lease_until"] == 60


def test_key_values() -> None:
    w, c = WorldState(), Client("c")
    assert w.apply(c.propose(Get(key="k"), stamp=0)) == Applied(value=None)
    assert w.apply(c.propose(Put(key="k", value=[1, {"b": 2}]), stamp=0)) == Applied(value=None)
    assert w.query(Get(key="k")) == Applied(value=[1, {"b": 2}])
    assert w.apply(c.propose(Delete(key="k"), stamp=0)) == Applied(value=True)
    assert w.apply(c.propose(Delete(key="k"), stamp=0)) == Applied(value=False)
    assert "k" not in w.kv


def test_compare_and_set() -> None:
    w, c = WorldState(), Client("c")
    assert w.apply(c.propose(Cas(key="owner", expected=None, new="A"), stamp=0)) == Applied(value="A")
    lost = w.apply(c.propose(Cas(key="owner", expected=None, new="B"), stamp=0))
    assert isinstance(lost, Rejected) and lost.reason is RejectReason.CAS_MISMATCH
    assert '"A"' in lost.detail
    assert w.kv["owner"] == "A"
    # JSON equality: key order is irrelevant, but 1, 1.0 and true are different values
    w.apply(c.propose(Put(key="n", value={"x": 1, "y": 2}), stamp=0))
    assert w.apply(c.propose(Cas(key="n", expected={"y": 2, "x": 1}, new=1), stamp=0)).ok
    assert not w.apply(c.propose(Cas(key="n", expected=True, new=2), stamp=0)).ok
    assert not w.apply(c.propose(Cas(key="n", expected=1.0, new=2), stamp=0)).ok
    assert w.apply(c.propose(Cas(key="n", expected=1, new=2), stamp=0)).ok


def test_results_and_views_are_copies() -> None:
    w = busy_world()
    before = w.snapshot()
    got = w.query(Get(key="k"))
    got.value["a"].append(3)  # type: ignore[index, union-attr]
    w.kv["k"]["a"].append(4)  # type: ignore[index]
    assert w.snapshot() == before


MUTATING = [
    Put(key="k", value=1),
    Delete(key="k"),
    Cas(key="k", expected=None, new=1),
    ClaimTask(task="t", agent="B"),
    RenewClaim(task="t", agent="A", lease_s=1),
    ReleaseTask(task="t", agent="A"),
    CompleteTask(task="t", agent="A"),
    AcquireLock(resource="r", agent="B", lease_s=1),
    RenewLock(resource="r", agent="A", token=1, lease_s=1),
    ReleaseLock(resource="r", agent="A", token=1),
]


@pytest.mark.parametrize("command", MUTATING, ids=lambda c: c.op)
def test_query_refuses_a_mutating_command(command: object) -> None:
    w = busy_world()
    before = w.snapshot()
    with pytest.raises(NotReadOnly, match="propose it through the log") as info:
        w.query(command)
    assert isinstance(info.value, ValueError)
    with pytest.raises(NotReadOnly):
        w.query(command.model_dump())  # type: ignore[attr-defined]
    assert w.snapshot() == before


def test_queries_change_nothing_and_skip_sessions() -> None:
    w = busy_world()
    before = w.snapshot()
    assert w.query(Get(key="k")).value == {"a": [1, 2]}
    assert w.query(CheckFence(resource="r", token=1)).value is True
    assert w.query(TaskStatusQuery(task="t")).value["owner"] == "A"
    assert len(w.query(ListTasks()).value) == 1
    assert w.query(b'{"op": "check_fence", "resource": "r", "token": 2}').value is False
    assert w.snapshot() == before
    assert list(w.sessions) == ["c"]


def test_snapshot_round_trips_everything() -> None:
    w = busy_world()
    copy = WorldState.from_snapshot(w.snapshot())
    assert copy.snapshot() == w.snapshot()
    assert (copy.clock, copy.last_token, dict(copy.kv)) == (12, 1, {"k": {"a": [1, 2]}})
    assert copy.tasks == w.tasks and copy.locks == w.locks and copy.sessions == w.sessions


def test_restore_keeps_the_session_limits_of_the_snapshot() -> None:
    small = WorldState(max_sessions=3, max_results_per_session=2)
    other = WorldState()
    other.restore(small.snapshot())
    assert other.max_sessions == 3
    for i in range(5):
        other.apply(Client(f"c{i}").propose(Get(key="k"), stamp=i))
    assert len(other.sessions) == 3


def good_snapshot_doc() -> dict[str, object]:
    return json.loads(busy_world().snapshot())


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "not a world-state snapshot"),
        (b"\x89PNG\r\n", "Invalid JSON"),
        (b'{"format": "etcd"}', "format"),
        (json.dumps({**good_snapshot_doc(), "version": 2}).encode(), "version"),
        (json.dumps({**good_snapshot_doc(), "clock": -1}).encode(), "clock"),
        (json.dumps({**good_snapshot_doc(), "last_token": 0}).encode(), "above the last issued token"),
        (json.dumps({**good_snapshot_doc(), "sessions": "all of them"}).encode(), "sessions"),
    ],
)
def test_restoring_garbage_raises_and_keeps_the_state(data: bytes, fragment: str) -> None:
    w = busy_world()
    before = w.snapshot()
    with pytest.raises(SnapshotError) as info:
        w.restore(data)
    assert fragment in str(info.value)
    assert w.snapshot() == before
