"""RaftNode and LocalCluster over real transports: a MemoryNetwork and TCP on 127.0.0.1."""

from __future__ import annotations

import anyio
import pytest
from structlog.testing import capture_logs

from lmteams.consensus import NotLeader, ProposalDropped
from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.node.raft_node import NodeStopped

from .kv_machine import KVMachine, cmd

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]
TRANSPORTS = ["memory", "tcp"]


def cluster(kind: str, size: int = 3, seed: int = 1) -> LocalCluster:
    return LocalCluster(size, seed=seed, transport=kind, state_machine=KVMachine)


async def converge(c: LocalCluster, index: int, timeout: float = 10.0) -> None:
    with anyio.fail_after(timeout):
        while any(n.applied_index < index for n in c.nodes.values()):
            await anyio.sleep(0.01)


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_propose_returns_the_applied_result_and_replicates(kind: str) -> None:
    async with cluster(kind) as c:
        lead = c.node(await c.wait_for_leader())
        assert await lead.propose(cmd("put", "x", 1)) is None
        assert await lead.propose(cmd("cas", "x", 1, 2)) is True
        assert await lead.propose(cmd("cas", "x", 1, 3)) is False
        assert await lead.read("x") == 2
        await converge(c, lead.applied_index)
        for node_id in c.ids:
            assert c.machines[node_id].data == {"x": 2}


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_follower_refuses_with_a_leader_hint(kind: str) -> None:
    async with cluster(kind) as c:
        leader = await c.wait_for_leader()
        await c.node(leader).propose(cmd("put", "x", 1))  # followers now know the leader
        follower = next(n for n in c.ids if n != leader)
        with pytest.raises(NotLeader) as err:
            await c.node(follower).propose(cmd("put", "x", 2))
        assert err.value.leader_hint == leader
        with pytest.raises(NotLeader):
            await c.node(follower).read("x")


async def test_concurrent_proposals_are_batched() -> None:
    async with cluster("memory") as c:
        leader = await c.wait_for_leader()
        node = c.node(leader)
        await node.propose(cmd("put", "warm", 0))
        sent_before = node.transport.stats.sent
        async with anyio.create_task_group() as tg:
            for i in range(500):
                tg.start_soon(node.propose, cmd("put", f"k{i}", i))
        sent = node.transport.stats.sent - sent_before
        # Unbatched, 500 proposals would need at least 1,000 AppendEntries to
        # two followers; the count here also includes heartbeats.
        assert sent < 500, f"{sent} messages for 500 proposals"
        assert all(c.machines[leader].data[f"k{i}"] == i for i in range(500))


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_leader_crash_then_new_leader_commits(kind: str) -> None:
    async with cluster(kind) as c:
        first = await c.wait_for_leader()
        await c.node(first).propose(cmd("put", "x", 1))
        await c.crash(first)
        second = await c.wait_for_leader()
        assert second != first
        await c.node(second).propose(cmd("put", "x", 2))
        assert await c.node(second).read("x") == 2
        await c.restart(first)
        await converge(c, c.node(second).applied_index)
        assert c.machines[first].data == {"x": 2}


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_partitioned_leader_minority_stalls_majority_progresses_then_converges(kind: str) -> None:
    async with cluster(kind, size=5) as c:
        old = await c.wait_for_leader()
        await c.node(old).propose(cmd("put", "x", 0))
        minority = [old, next(n for n in c.ids if n != old)]
        majority = [n for n in c.ids if n not in minority]
        c.partition(minority, majority)
        # The minority side cannot commit.
        with anyio.move_on_after(0.5) as scope:
            await c.node(old).propose(cmd("put", "x", "stale"))
        assert scope.cancelled_caught
        # The majority elects its own leader and commits.
        new = await c.wait_for_leader(among=majority)
        await c.node(new).propose(cmd("put", "x", "fresh"))
        assert await c.node(new).read("x") == "fresh"
        # Check-quorum deposes the old leader within two election timeouts.
        with anyio.fail_after(5):
            while c.node(old).is_leader:
                await anyio.sleep(0.01)
        c.heal()
        await c.node(new).propose(cmd("put", "y", 1))
        await converge(c, c.node(new).applied_index)
        logs = {n: c.storages[n].all_entries()[: c.node(new).commit_index] for n in c.ids}
        assert len({tuple(entries) for entries in logs.values()}) == 1, "logs did not converge"
        assert all(c.machines[n].data["x"] == "fresh" for n in c.ids)


async def test_read_on_a_deposed_leader_is_not_stale() -> None:
    async with cluster("memory", size=3) as c:
        old = await c.wait_for_leader()
        await c.node(old).propose(cmd("put", "x", 1))
        c.isolate(old)
        others = [n for n in c.ids if n != old]
        new = await c.wait_for_leader(among=others)
        await c.node(new).propose(cmd("put", "x", 2))
        # The old leader may still think it leads, but its ReadIndex round
        # cannot reach a majority: the read never answers 1.
        result: list[object] = []
        with anyio.move_on_after(1.0):
            try:
                result.append(await c.node(old).read("x"))
            except NotLeader:
                result.append("not leader")
        assert result in ([], ["not leader"])


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_transfer_leadership(kind: str) -> None:
    async with cluster(kind) as c:
        leader = await c.wait_for_leader()
        await c.node(leader).propose(cmd("put", "x", 1))
        target = next(n for n in c.ids if n != leader)
        await c.node(leader).transfer_leadership(target, timeout=5)
        assert c.node(target).is_leader
        assert await c.node(target).propose(cmd("cas", "x", 1, 2)) is True


async def test_cancelled_proposal_leaves_the_node_working() -> None:
    async with cluster("memory") as c:
        leader = await c.wait_for_leader()
        c.isolate(leader)
        with anyio.move_on_after(0.2):
            await c.node(leader).propose(cmd("put", "x", "maybe"))
        c.heal()
        new = await c.wait_for_leader()
        assert await c.node(new).propose(cmd("put", "y", 1)) is None


async def test_state_machine_error_fails_only_that_proposal() -> None:
    async with cluster("memory") as c:
        node = c.node(await c.wait_for_leader())
        with pytest.raises(RuntimeError, match="always fails"):
            await node.propose(cmd("boom"))
        assert await node.propose(cmd("put", "x", 1)) is None


async def test_garbage_from_a_peer_is_logged_and_ignored() -> None:
    async with cluster("memory") as c:
        leader = await c.wait_for_leader()
        follower = next(n for n in c.ids if n != leader)
        impostor = c.network.endpoint("intruder")
        with capture_logs() as logs:
            await impostor.send(follower, b"\x00garbage")
            await impostor.send(follower, b"\x01" * 7)
            await anyio.sleep(0.05)
        # One decode warning per bad frame, and the cluster keeps working.
        bad = [e for e in logs if e["event"] == "raft.bad_message"]
        assert len(bad) == 2 and all(e["peer"] == "intruder" for e in bad)
        assert await c.node(leader).propose(cmd("put", "x", 1)) is None
        await converge(c, c.node(leader).applied_index)


async def test_stopped_node_fails_waiters() -> None:
    async with cluster("memory") as c:
        leader = await c.wait_for_leader()
        node = c.node(leader)
        c.isolate(leader)
        outcome: list[BaseException] = []

        async def propose() -> None:
            try:
                await node.propose(cmd("put", "x", 1))
            except (NodeStopped, ProposalDropped) as exc:
                outcome.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(propose)
            await anyio.sleep(0.05)
            await c.crash(leader)
        assert outcome and isinstance(outcome[0], NodeStopped)
        with pytest.raises(NodeStopped):
            await node.propose(cmd("put", "x", 2))


async def test_cluster_makes_progress_on_a_lossy_network() -> None:
    from lmteams.transports import MemoryNetwork

    net = MemoryNetwork(seed=5, drop=0.1, duplicate=0.05, delay=(0.0, 0.003))
    async with LocalCluster(3, seed=5, network=net) as c:
        await c.wait_for_leader()
        client = c.client("lossy")
        for i in range(100):
            await client.put("k", i)
        assert await client.get("k") == 99
        dropped = sum(n.transport.stats.dropped_fault for n in c.nodes.values())
        assert dropped > 0, "the network was meant to lose messages"


async def test_propose_and_read_time_out_on_an_isolated_leader() -> None:
    async with cluster("memory") as c:
        leader = c.node(await c.wait_for_leader())
        c.isolate(leader.id)
        started = anyio.current_time()
        with pytest.raises(TimeoutError, match="no answer within 0.030s"):
            await leader.propose(cmd("put", "x", 1), timeout=0.03)
        # Due at 0.03 s, failed by the first tick after it (ticks are 5 ms here).
        assert 0.03 <= anyio.current_time() - started < 0.03 + 0.05
        with pytest.raises(TimeoutError):
            await leader.read("x", timeout=0.02)
        with pytest.raises(TimeoutError, match="no time left"):
            await leader.propose(cmd("put", "x", 2), timeout=0.0)


async def test_a_client_whose_leader_is_cut_off_times_out_and_finds_the_new_one() -> None:
    async with LocalCluster(3, seed=1) as c:  # the world state, which clients speak to
        old = await c.wait_for_leader()
        client = c.client("cut-off", attempt_timeout=0.1, deadline=5.0)
        await client.put("before", 0)
        assert client.leader == old
        c.isolate(old)
        await client.put("after", 1)
        assert client.leader != old and client.retries >= 1
        assert isinstance(client.last_error, (TimeoutError, NotLeader))
        assert await client.get("after") == 1


async def test_a_proposal_queued_when_the_node_stops_fails_instead_of_waiting_forever() -> None:
    """The driver never took the proposal's event, and the ticker that would time it out is gone."""
    outcome: list[BaseException] = []
    async with LocalCluster(1, seed=3, state_machine=KVMachine) as cluster:
        node = cluster.node(await cluster.wait_for_leader())

        async def call() -> None:
            try:
                await node.propose(cmd("set", "x", 1), timeout=5.0)
            except NodeStopped as exc:
                outcome.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                await anyio.sleep(0)  # call() queues its proposal; the driver has not run since
                await cluster.crash(node.id)
    assert len(outcome) == 1
