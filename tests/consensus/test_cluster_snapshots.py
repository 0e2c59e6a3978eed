"""Snapshots and log compaction on a running LocalCluster with the world state:
a node that was down while the others compacted catches up by InstallSnapshot,
and a cluster on FileStorage restarts from snapshot + log suffix."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from lmteams.consensus import FileStorage, RaftConfig
from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.world import AcquireLock, Applied, ClaimTask, Proposal, Put, WorldState, encode_proposal

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

# Compact every 20 applied entries; ship snapshots in 256-byte chunks.
CONFIG = RaftConfig(snapshot_threshold=20, snapshot_chunk_bytes=256)


def proposal(seq: int, command: object, client: str = "c1") -> bytes:
    return encode_proposal(Proposal(client_id=client, seq=seq, command=command, stamp=0.0))  # type: ignore[arg-type]


async def write_world(node, start: int, count: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(start, start + count):
        result = await node.propose(proposal(i, Put(key=f"k{i % 7}", value={"i": i, "pad": "x" * 40})))
        assert isinstance(result, Applied)
    assert isinstance(
        await node.propose(proposal(start + count, ClaimTask(task=f"t{start}", agent="a1", lease_s=60))), Applied
    )
    assert isinstance(
        await node.propose(proposal(start + count + 1, AcquireLock(resource="f.py", agent="a1", lease_s=60))), Applied
    )


async def converged(cluster: LocalCluster, index: int) -> None:
    with anyio.fail_after(20):
        while any(n.applied_index < index for n in cluster.nodes.values()):
            await anyio.sleep(0.01)


async def test_a_node_down_during_compaction_catches_up_by_snapshot() -> None:
    async with LocalCluster(3, seed=11, config=CONFIG) as cluster:
        lead_id = await cluster.wait_for_leader()
        down = next(n for n in cluster.ids if n != lead_id)
        await cluster.crash(down)
        leader = cluster.node(lead_id)
        await write_world(leader, 1, 60)
        # The live nodes compacted their logs past everything the downed node has.
        lagging = cluster.storages[down].last_index()
        for n, node in cluster.nodes.items():
            assert node.snapshot_index > lagging + 1, (n, node.snapshot_index, lagging)
            assert cluster.storages[n].first_index() == node.snapshot_index + 1
        await cluster.restart(down)
        await converged(cluster, leader.applied_index)
        back = cluster.node(down)
        # It got there through a snapshot, not the (compacted) log.
        assert cluster.storages[down].snapshot().index > lagging
        assert back.snapshot_index == cluster.storages[down].snapshot().index
        mine, theirs = cluster.machines[down], cluster.machines[lead_id]
        assert isinstance(mine, WorldState) and isinstance(theirs, WorldState)
        assert mine.snapshot() == theirs.snapshot()
        assert mine.kv["k3"] == theirs.kv["k3"] and "t1" in mine.tasks and mine.last_token == theirs.last_token == 1
        # And it keeps up afterwards.
        await leader.propose(proposal(999, Put(key="after", value=1)))
        await converged(cluster, leader.applied_index)
        assert mine.kv["after"] == 1


async def test_a_file_storage_cluster_restarts_from_snapshot_and_suffix(tmp_path: Path) -> None:
    def storage(n: str) -> FileStorage:
        return FileStorage(tmp_path / n)

    async with LocalCluster(3, seed=12, config=CONFIG, storage=storage) as cluster:
        leader = cluster.node(await cluster.wait_for_leader())
        await write_world(leader, 1, 45)
        await converged(cluster, leader.applied_index)
        states = {n: m.snapshot() for n, m in cluster.machines.items()}  # type: ignore[attr-defined]
        applied = leader.applied_index
    assert len(set(states.values())) == 1
    for n in cluster.ids:
        s = cluster.storages[n]
        assert isinstance(s, FileStorage)
        assert s.snapshot().index >= 20 and s.first_index() == s.snapshot().index + 1
        assert (tmp_path / n / "snapshot").exists()
        s.close()
    # A new cluster over the same directories: each node restores its
    # snapshot, then applies the log after it.
    async with LocalCluster(3, seed=13, config=CONFIG, storage=storage) as again:
        for node in again.nodes.values():
            assert node.applied_index >= node.snapshot_index > 0
        leader = again.node(await again.wait_for_leader())
        await converged(again, applied)
        for n, machine in again.machines.items():
            assert machine.snapshot() == states[n], n  # type: ignore[attr-defined]
        assert isinstance(await leader.propose(proposal(500, Put(key="k1", value="new"))), Applied)
        assert (await leader.read({"op": "get", "key": "k1"})).value == "new"
    for n in again.ids:
        again.storages[n].close()  # type: ignore[attr-defined]
