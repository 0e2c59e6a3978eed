"""A LocalCluster on FileStorage: real files, real fsync, saved off the event loop."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest

from lmteams.consensus import FileStorage, MemoryStorage
from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.core.messages import EntryKind
from lmteams.consensus.node import entry_data

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
        commands = [e for e in reopened.all_entries() if e.kind in (EntryKind.NORMAL, EntryKind.BATCH)]
        puts = [c for e in commands for c in entry_data.unpack(e)[1] if b'"put"' in c]
        assert len(puts) == 50, f"{n} has {len(puts)} of 50 commands on disk"
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


class _GatedStorage(MemoryStorage):
    """A MemoryStorage saved off the event loop whose next save of entries can be held."""

    blocking_io = True

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.held = threading.Event()  # set while a save is being held
        self.release = threading.Event()

    def save(self, hard_state, entries, snapshot=None) -> None:  # type: ignore[no-untyped-def]
        if self.hold and entries:
            self.hold = False
            self.held.set()
            self.release.wait(10)
        super().save(hard_state, entries, snapshot)


async def test_leader_replicates_while_it_writes_but_commits_only_after(tmp_path: Path) -> None:
    """Raft thesis §10.2.1: AppendEntries go out while the leader's own save runs; the
    leader counts itself toward the commit only once that save has returned."""
    # Long ticks (elections after 0.5 s or more): the held leader sends no heartbeat meanwhile.
    async with LocalCluster(
        3, seed=4, state_machine=KVMachine, storage=lambda n: _GatedStorage(), tick_interval=0.05
    ) as c:
        leader_id = await c.wait_for_leader()
        node = c.node(leader_id)
        await node.propose(cmd("put", "a", 1))
        store = c.storages[leader_id]
        assert isinstance(store, _GatedStorage)
        target = node.commit_index + 1
        store.hold = True
        async with anyio.create_task_group() as tg:
            tg.start_soon(node.propose, cmd("put", "b", 2))
            with anyio.fail_after(10):
                while not store.held.is_set():
                    await anyio.sleep(0.005)
                followers = [n for n in c.ids if n != leader_id]
                # Both followers store the entry while the leader's write is still held...
                while any(c.storages[f].last_index() < target for f in followers):
                    await anyio.sleep(0.005)
            assert all(c.storages[f].term(target) == node.term for f in followers)
            await anyio.sleep(0.02)
            # ...yet nothing commits it: the leader has not handled their answers.
            assert node.is_leader and node.commit_index < target
            assert store.last_index() < target
            store.release.set()
        assert node.commit_index >= target
        assert await node.read("b") == 2
