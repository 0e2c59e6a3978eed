"""A LocalCluster on FileStorage: real files, real fsync, saved off the event loop."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from consensus import FileStorage
from consensus.cluster import LocalCluster

from .kv_machine import KVMachine, cmd

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_committed_entries_are_on_disk_on_every_node(tmp_path: Path) -> None:
    async with LocalCluster(3, seed=4, state_machine=KVMachine, storage=lambda n: FileStorage(tmp_path / n)) as c:
        node = c.node(await c.wait_for_leader())
        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(node.propose, cmd("put", f"k{i}", i))
        commit = node.commit_index
        with anyio.fail_after(10):
            while any(n.commit_index < commit for n in c.nodes.values()):
                await anyio.sleep(0.01)
        saves = {n: c.storages[n].saves for n in c.ids}
    for n in c.ids:
        c.storages[n].close()  # type: ignore[attr-defined]
        reopened = FileStorage(tmp_path / n)
        puts = [e for e in reopened.all_entries() if b'"put"' in e.data]
        assert len(puts) == 50, f"{n} has {len(puts)} of 50 entries on disk"
        # The saved commit index may lag (Raft recovers it from the leader);
        # the term and vote may not.
        assert reopened.initial_state().term >= 1 and reopened.initial_state().vote is not None
        reopened.close()
    # 50 concurrent proposals were saved in far fewer writes than entries.
    assert saves[node.id] < 50, saves


async def test_a_cluster_restarts_from_its_files(tmp_path: Path) -> None:
    def storage(n: str) -> FileStorage:
        return FileStorage(tmp_path / n)

    async with LocalCluster(3, seed=5, state_machine=KVMachine, storage=storage) as c:
        node = c.node(await c.wait_for_leader())
        for i in range(10):
            await node.propose(cmd("put", "x", i))
    for n in c.ids:
        c.storages[n].close()  # type: ignore[attr-defined]
    # A new cluster over the same directories: every node replays its log.
    async with LocalCluster(3, seed=6, state_machine=KVMachine, storage=storage) as again:
        node = again.node(await again.wait_for_leader())
        assert await node.read("x") == 9
        await node.propose(cmd("put", "x", 10))
        assert await node.read("x") == 10
    for n in again.ids:
        again.storages[n].close()  # type: ignore[attr-defined]
