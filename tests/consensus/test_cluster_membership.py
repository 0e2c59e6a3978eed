"""Membership changes on a running LocalCluster with the world state (issue 4,
part 3): removing the leader, adding a node that catches up by snapshot, and
a change interrupted by the leader's crash; plus RaftNode's API contract."""

from __future__ import annotations

import anyio
import pytest

from lmteams.consensus import ConfChangeInProgress, InvalidConfChange, Membership, NotLeader, RaftConfig, Role
from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.node.raft_node import CatchUpTimeout, NodeStopped
from lmteams.consensus.world import Applied, ClaimTask, WorldState

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def converged(cluster: LocalCluster, timeout: float = 15) -> None:
    """Every running member of the leader's configuration has applied
    everything the leader has committed."""
    with anyio.fail_after(timeout):
        while True:
            lead = cluster.leader()
            if lead is not None:
                leader = cluster.node(lead)
                members = [cluster.nodes[n] for n in leader.membership.members if n in cluster.nodes]
                if all(n.applied_index >= leader.commit_index for n in members):
                    return
            await anyio.sleep(0.01)


def memberships(cluster: LocalCluster) -> dict[str, Membership]:
    return {n: node.membership for n, node in cluster.nodes.items()}


async def test_removing_the_leader_elects_a_new_leader_among_the_rest() -> None:
    async with LocalCluster(3, seed=21) as cluster:
        old_id = await cluster.wait_for_leader()
        client = cluster.client("c")
        await client.put("before", 1)
        old = cluster.node(old_id)
        conf = await old.remove(old_id)  # returns once the removal is committed
        rest = [n for n in cluster.ids if n != old_id]
        assert conf == Membership.of(rest)
        # It led until its removal committed, then stepped down for good.
        assert not old.is_leader and old.membership == conf
        new_id = await cluster.wait_for_leader(among=rest)
        assert new_id != old_id
        await client.put("after", 2)  # the rest commit without it
        assert await client.get("after") == 2
        await anyio.sleep(4 * cluster.config.election_timeout_max * cluster.tick_interval)  # four election timeouts
        assert old.role is Role.FOLLOWER and old.term <= cluster.node(new_id).term  # it never campaigned
        await cluster.remove_node(old_id)  # already out of the configuration: just stops it
        assert old_id not in cluster.nodes and old_id not in cluster.ids
        await client.put("later", 3)
        await converged(cluster)
        assert all(conf == Membership.of(rest) for conf in memberships(cluster).values())


@pytest.mark.parametrize("kind", ["memory", "tcp"])
async def test_an_added_node_catches_up_by_snapshot(kind: str) -> None:
    config = RaftConfig(snapshot_threshold=20, snapshot_chunk_bytes=256)
    async with LocalCluster(3, seed=22, transport=kind, config=config) as cluster:
        lead_id = await cluster.wait_for_leader()
        client = cluster.client("writer")
        for i in range(50):
            await client.put(f"k{i % 7}", {"i": i, "pad": "x" * 30})
        assert isinstance(await client.submit(ClaimTask(task="t1", agent="a1", lease_s=60)), Applied)
        leader = cluster.node(lead_id)
        assert leader.snapshot_index >= 20 and cluster.storages[lead_id].first_index() > 1  # compacted
        new_id = await cluster.add_node()
        assert new_id == "n4"
        await converged(cluster)
        # It never saw entry 1: it was brought up to date by InstallSnapshot.
        storage = cluster.storages[new_id]
        assert storage.snapshot().index >= 20 and storage.first_index() == storage.snapshot().index + 1
        mine, theirs = cluster.machines[new_id], cluster.machines[lead_id]
        assert isinstance(mine, WorldState) and isinstance(theirs, WorldState)
        assert mine.snapshot() == theirs.snapshot()
        assert set(memberships(cluster).values()) == {Membership.of({"n1", "n2", "n3", "n4"})}
        # It is a voter now: with one of the others down, commits need its vote.
        other = next(n for n in ("n1", "n2", "n3") if n != cluster.leader())
        await cluster.crash(other)
        await client.put("with-n4", True)
        assert await client.get("with-n4") is True
        assert cluster.machines[new_id].kv["with-n4"] is True  # type: ignore[attr-defined]


@pytest.mark.parametrize("isolated", [False, True], ids=["entry-sent", "entry-stuck-on-leader"])
async def test_a_change_interrupted_by_a_leader_crash_ends_consistent(isolated: bool) -> None:
    async with LocalCluster(3, seed=23 + isolated) as cluster:
        lead_id = await cluster.wait_for_leader()
        client = cluster.client("c")
        await client.put("x", 0)
        leader = cluster.node(lead_id)
        old = leader.membership
        victim = next(n for n in cluster.ids if n != lead_id)
        new = Membership.of(old.voters - {victim})
        if isolated:
            cluster.isolate(lead_id)  # the entry will never leave the leader
        outcome: list[object] = []

        async def propose() -> None:
            try:
                outcome.append(await leader.remove(victim))
            except NodeStopped as exc:
                outcome.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(propose)
            with anyio.fail_after(5):
                while leader.membership == old:  # appended: in force on the leader
                    await anyio.sleep(0)
            await cluster.crash(lead_id)  # right after proposing
        assert isinstance(outcome[0], NodeStopped)  # the proposer learns nothing
        cluster.heal()
        await cluster.restart(lead_id)
        await cluster.wait_for_leader(timeout=10)
        await client.put("x", 1)  # the cluster keeps committing
        await converged(cluster)
        confs = set(memberships(cluster).values())
        assert len(confs) == 1 and confs <= {old, new}, confs
        if isolated:
            # The change never left the crashed leader: it was truncated there
            # and the old configuration is back in force.
            assert confs == {old}
        assert await client.get("x") == 1
        # The configuration can change again from there.
        if confs == {old}:
            await cluster.remove_node(victim)
        assert set(memberships(cluster).values()) == {new}


async def test_node_membership_api_contract() -> None:
    async with LocalCluster(3, seed=24, config=RaftConfig(election_timeout_min=10, election_timeout_max=20)) as cluster:
        lead_id = await cluster.wait_for_leader()
        leader = cluster.node(lead_id)
        follower = cluster.node(next(n for n in cluster.ids if n != lead_id))
        with pytest.raises(NotLeader) as info:
            await follower.add_learner("n9")
        assert info.value.leader_hint == lead_id
        with pytest.raises(InvalidConfChange, match="already a voter"):
            await leader.add_learner(lead_id)
        with pytest.raises(InvalidConfChange, match="unknown configuration change"):
            await leader.propose_conf_change("demote", "n2")
        # A learner that never answers (no such node) is not promoted.
        with pytest.raises(CatchUpTimeout, match="'ghost' did not catch up"):
            await leader.add_voter("ghost", timeout=0.2)
        assert leader.membership.learners == {"ghost"}
        # One change at a time: of two concurrent changes, the second is refused.
        results: dict[str, object] = {}

        async def change(name: str, op) -> None:  # type: ignore[no-untyped-def]
            try:
                results[name] = await op()
            except ConfChangeInProgress as exc:
                results[name] = exc

        async with anyio.create_task_group() as tg:
            tg.start_soon(change, "remove", lambda: leader.remove("ghost"))
            tg.start_soon(change, "add", lambda: leader.add_learner("n9"))
        assert results["remove"] == Membership.of({"n1", "n2", "n3"}), results
        assert isinstance(results["add"], ConfChangeInProgress) and "one server at a time" in str(results["add"])
        assert leader.membership == Membership.of({"n1", "n2", "n3"})
