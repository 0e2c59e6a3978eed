"""An application's own commands: run on every replica alike, all-or-nothing, clear when unknown."""

from __future__ import annotations

from typing import Any

from lmteams.consensus.world import Applied, Custom, CustomContext, Rejected, RejectReason, WorldState, reject

from .support import Client


def append(world: CustomContext, args: Any) -> Any:
    items = world.get(args["key"]) or []
    if len(items) >= args.get("limit", 3):
        return reject(f"{args['key']} is full ({len(items)} items)")
    world.put(args["key"], [*items, {"item": args["item"], "at": world.now}])
    return len(items) + 1


def half_then_fail(world: CustomContext, args: Any) -> Any:
    world.put("half", "written")
    raise ValueError("boom after a write")


HANDLERS = {"append": append, "half_then_fail": half_then_fail}


def test_a_custom_command_changes_state_with_committed_time_and_replicas_agree() -> None:
    replicas = [WorldState(custom=HANDLERS) for _ in range(3)]
    client = Client("c")
    entries = [client.propose(Custom(name="append", args={"key": "log", "item": i}), stamp=10.0 + i) for i in range(4)]
    results = [[w.apply(e) for e in entries] for w in replicas]
    assert results[0][:3] == [Applied(value=1), Applied(value=2), Applied(value=3)]
    assert isinstance(results[0][3], Rejected) and results[0][3].reason is RejectReason.CUSTOM_REJECTED
    assert "full" in results[0][3].detail
    assert results[0] == results[1] == results[2]
    assert replicas[0].snapshot() == replicas[1].snapshot() == replicas[2].snapshot()
    assert replicas[0].kv["log"] == [{"item": 0, "at": 10.0}, {"item": 1, "at": 11.0}, {"item": 2, "at": 12.0}]


def test_a_failing_handler_changes_nothing() -> None:
    world = WorldState(custom=HANDLERS)
    before = world.snapshot()
    result = world.apply(Client("c").propose(Custom(name="half_then_fail"), stamp=1.0))
    assert isinstance(result, Rejected) and result.reason is RejectReason.CUSTOM_REJECTED
    assert "ValueError: boom" in result.detail
    assert "half" not in world.kv
    assert world.snapshot() != before  # only the session and the clock moved
    assert WorldState.from_snapshot(world.snapshot()).kv == {}


def test_an_unregistered_custom_command_is_an_invalid_command_naming_what_is_registered() -> None:
    result = WorldState(custom=HANDLERS).apply(Client("c").propose(Custom(name="vote"), stamp=1.0))
    assert isinstance(result, Rejected) and result.reason is RejectReason.INVALID_COMMAND
    assert "'vote'" in result.detail and "append, half_then_fail" in result.detail


def test_a_handler_returning_something_not_json_is_refused() -> None:
    world = WorldState(custom={"bad": lambda w, a: {1, 2}})
    result = world.apply(Client("c").propose(Custom(name="bad"), stamp=1.0))
    assert isinstance(result, Rejected) and "not JSON" in result.detail
