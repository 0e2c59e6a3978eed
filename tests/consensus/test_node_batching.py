"""Proposal batching: a leader packs the proposals waiting together into one BATCH entry.

Each caller still gets its own command's result or error, every replica applies
the same commands in the same order, and the batches survive a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from lmteams.consensus import FileStorage, RaftConfig
from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.core.messages import Entry, EntryKind
from lmteams.consensus.node import entry_data

from .kv_machine import KVMachine, cmd

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def commands_of(entries: list[Entry]) -> list[tuple[EntryKind, list[bytes]]]:
    return [(e.kind, entry_data.unpack(e)[1]) for e in entries if e.kind in (EntryKind.NORMAL, EntryKind.BATCH)]


async def propose_all(node: Any, payloads: list[bytes]) -> list[Any]:
    """Propose every payload concurrently; each slot gets its result or the exception raised."""
    results: list[Any] = [None] * len(payloads)

    async def one(i: int) -> None:
        try:
            results[i] = await node.propose(payloads[i])
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc

    async with anyio.create_task_group() as tg:
        for i in range(len(payloads)):
            tg.start_soon(one, i)
    return results


async def converge(c: LocalCluster, index: int) -> None:
    with anyio.fail_after(10):
        while any(n.applied_index < index for n in c.nodes.values()):
            await anyio.sleep(0.01)


async def test_concurrent_proposals_share_entries_and_each_caller_gets_its_own_result() -> None:
    async with LocalCluster(3, seed=2, state_machine=KVMachine) as c:
        lead = c.node(await c.wait_for_leader())
        first = await propose_all(lead, [cmd("cas", f"k{i}", None, i) for i in range(60)])
        assert first == [True] * 60
        # Half the expectations are wrong: each caller must see its own answer, not a neighbour's.
        second = await propose_all(lead, [cmd("cas", f"k{i}", i if i % 2 else -1, i + 100) for i in range(60)])
        assert second == [i % 2 == 1 for i in range(60)]
        await converge(c, lead.applied_index)
        for node_id in c.ids:
            assert c.machines[node_id].data == {f"k{i}": i + 100 if i % 2 else i for i in range(60)}
            assert c.machines[node_id].applied == c.machines[lead.id].applied
        entries = commands_of(c.storages[lead.id].all_entries())
        assert sum(len(commands) for _, commands in entries) == 120
        batches = [commands for kind, commands in entries if kind is EntryKind.BATCH]
        assert batches, "120 concurrent proposals went into 120 entries: nothing was batched"
        assert len(entries) < 60


async def test_a_failing_command_in_a_batch_fails_only_its_caller() -> None:
    async with LocalCluster(3, seed=3, state_machine=KVMachine) as c:
        lead = c.node(await c.wait_for_leader())
        payloads = (
            [cmd("put", f"k{i}", i) for i in range(5)] + [cmd("boom")] + [cmd("put", f"k{i}", i) for i in range(5, 10)]
        )
        results = await propose_all(lead, payloads)
        assert isinstance(results[5], RuntimeError) and "always fails" in str(results[5])
        assert results[:5] + results[6:] == [None] * 10
        holder = next(
            kind for kind, commands in commands_of(c.storages[lead.id].all_entries()) if cmd("boom") in commands
        )
        assert holder is EntryKind.BATCH, "the failing command was not in a batch; the test proves nothing"
        await converge(c, lead.applied_index)
        assert all(c.machines[n].data == {f"k{i}": i for i in range(10)} for n in c.ids)


@pytest.mark.parametrize("limit", [1, 4])
async def test_max_commands_per_entry_bounds_a_batch(limit: int) -> None:
    config = RaftConfig(max_commands_per_entry=limit)
    async with LocalCluster(3, seed=4, state_machine=KVMachine, config=config) as c:
        lead = c.node(await c.wait_for_leader())
        assert await propose_all(lead, [cmd("put", f"k{i}", i) for i in range(30)]) == [None] * 30
        entries = commands_of(c.storages[lead.id].all_entries())
        assert sum(len(commands) for _, commands in entries) == 30
        assert max(len(commands) for _, commands in entries) == limit
        if limit == 1:
            assert all(kind is EntryKind.NORMAL for kind, _ in entries)


async def test_batches_are_replayed_after_a_restart(tmp_path: Path) -> None:
    def storage(n: str) -> FileStorage:
        return FileStorage(tmp_path / n)

    async with LocalCluster(3, seed=5, state_machine=KVMachine, storage=storage) as c:
        lead = c.node(await c.wait_for_leader())
        await propose_all(lead, [cmd("put", f"k{i}", i) for i in range(40)])
        assert any(kind is EntryKind.BATCH for kind, _ in commands_of(c.storages[lead.id].all_entries()))
        before = dict(c.machines[lead.id].data)
    for n in c.ids:
        c.storages[n].close()  # type: ignore[attr-defined]
    async with LocalCluster(3, seed=6, state_machine=KVMachine, storage=storage) as again:
        node = again.node(await again.wait_for_leader())
        await node.propose(cmd("put", "after", 1))
        await converge(again, node.applied_index)
        for n in again.ids:
            assert again.machines[n].data == {**before, "after": 1}
    for n in again.ids:
        again.storages[n].close()  # type: ignore[attr-defined]
    assert before == {f"k{i}": i for i in range(40)}
