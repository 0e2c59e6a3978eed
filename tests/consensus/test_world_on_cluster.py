"""The world state's guarantees through a real replicated cluster."""

from __future__ import annotations

import anyio
import pytest

from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.world import (
    AcquireLock,
    Applied,
    CheckFence,
    Proposal,
    Put,
    Rejected,
    RenewLock,
    encode_proposal,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def converged(cluster: LocalCluster, index: int) -> None:
    with anyio.fail_after(10):
        while any(n.applied_index < index for n in cluster.nodes.values()):
            await anyio.sleep(0.01)


@pytest.mark.parametrize("kind", ["memory", "tcp"])
async def test_a_retried_proposal_is_applied_once(kind: str) -> None:
    async with LocalCluster(3, seed=2, transport=kind) as cluster:
        node = cluster.node(await cluster.wait_for_leader())
        first = encode_proposal(Proposal(client_id="c1", seq=1, command=Put(key="x", value=1), stamp=0.0))
        other = encode_proposal(Proposal(client_id="c2", seq=1, command=Put(key="x", value=2), stamp=0.0))
        assert isinstance(await node.propose(first), Applied)
        assert isinstance(await node.propose(other), Applied)
        # The retry of c1's seq 1 (say its answer was lost) must not overwrite c2's write.
        assert isinstance(await node.propose(first), Applied)
        await converged(cluster, node.applied_index)
        for machine in cluster.machines.values():
            assert machine.kv == {"x": 2}


async def test_a_lease_expires_alike_on_every_replica_and_stale_tokens_are_fenced() -> None:
    async with LocalCluster(3, seed=3) as cluster:
        await cluster.wait_for_leader()
        a, b = cluster.client("agent-a"), cluster.client("agent-b")
        held = await a.submit(AcquireLock(resource="f.py", agent="a", lease_s=0.2))
        assert isinstance(held, Applied)
        busy = await b.submit(AcquireLock(resource="f.py", agent="b", lease_s=5))
        assert isinstance(busy, Rejected) and busy.reason == "lock_held"
        await anyio.sleep(0.3)  # a's lease runs out in committed time with the next entry
        taken = await b.submit(AcquireLock(resource="f.py", agent="b", lease_s=5))
        assert isinstance(taken, Applied) and taken.value["token"] > held.value["token"]
        stale = await a.submit(RenewLock(resource="f.py", agent="a", token=held.value["token"], lease_s=5))
        assert isinstance(stale, Rejected) and stale.reason == "stale_token"
        assert (await a.query(CheckFence(resource="f.py", token=held.value["token"]))).value is False
        leader = cluster.node(cluster.leader() or await cluster.wait_for_leader())
        await converged(cluster, leader.applied_index)
        views = [m.snapshot() for m in cluster.machines.values()]
        assert len(set(views)) == 1, "replicas disagree on the world state"


async def test_a_client_keeps_its_unanswered_seqs_within_what_the_world_remembers() -> None:
    """With 40 puts at once and a world that remembers 4 results per session, the client never
    opens a seq 4 or more past its oldest unanswered one (and sends nothing before seq 1, which opens
    its session, is applied), so no command finds its session missing or its result forgotten."""
    from lmteams.consensus.world import WorldState

    async with LocalCluster(3, seed=4, state_machine=lambda: WorldState(max_results_per_session=4)) as cluster:
        await cluster.wait_for_leader()
        client = cluster.client("windowed", window=4)
        spans: list[int] = []
        propose_on = client._propose_on

        async def watched(node_id: str, proposal: Proposal, data: bytes, timeout: float) -> Applied | Rejected:
            spans.append(proposal.seq - proposal.ack_below)
            return await propose_on(node_id, proposal, data, timeout)

        client._propose_on = watched  # type: ignore[method-assign]
        results: list[Applied | Rejected] = []

        async def one(i: int) -> None:
            results.append(await client.submit(Put(key=f"k{i}", value=i)))

        async with anyio.create_task_group() as tg:
            for i in range(40):
                tg.start_soon(one, i)
    assert len(results) == 40 and all(isinstance(r, Applied) for r in results)
    assert len(spans) >= 40 and max(spans) < 4, max(spans)
