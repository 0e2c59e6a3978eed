"""The generic client on a state machine that is not the world state.

A user who brings their own machine gets the same leader finding, redirects,
retries and ``(client_id, seq)`` sessions as the world's clients, through a
`SessionCodec` (here `JsonSessions`, and a codec of the user's own).
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from lmteams.consensus import JsonSessions, LocalCluster, NodeClient
from tests.consensus.kv_machine import KVMachine, cmd

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


class Counters:
    """Named counters that apply each ``(client_id, seq)`` once, as `JsonSessions` asks of a machine."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.sessions: dict[str, dict[int, Any]] = {}
        self.applied = 0

    def apply(self, data: bytes, stamp: float) -> Any:
        command = JsonSessions.decode(data)
        session = self.sessions.setdefault(command.client_id, {})
        if command.seq in session:
            return session[command.seq]  # a retry: the first result, applied once
        for seq in [s for s in session if s < command.ack_below]:
            del session[seq]
        name = command.command["incr"]
        self.counts[name] = self.counts.get(name, 0) + 1
        self.applied += 1
        session[command.seq] = self.counts[name]
        return self.counts[name]

    def query(self, name: str) -> int:
        return self.counts.get(name, 0)

    def snapshot(self) -> bytes:
        return json.dumps([self.counts, self.sessions, self.applied], sort_keys=True).encode()

    def restore(self, data: bytes) -> None:
        counts, sessions, self.applied = json.loads(data)
        self.counts = counts
        self.sessions = {c: {int(s): r for s, r in results.items()} for c, results in sessions.items()}


async def converged(cluster: LocalCluster, index: int) -> None:
    with anyio.fail_after(10):
        while any(n.applied_index < index for n in cluster.nodes.values()):
            await anyio.sleep(0.01)


@pytest.mark.parametrize("kind", ["memory", "tcp"])
async def test_a_client_of_an_own_state_machine_follows_the_leader_through_a_crash(kind: str) -> None:
    async with LocalCluster(3, seed=11, transport=kind, state_machine=Counters) as cluster:
        first = await cluster.wait_for_leader()
        client = cluster.client("counter-client", codec=JsonSessions(), attempt_timeout=0.3, deadline=10.0)
        assert isinstance(client, NodeClient)
        assert [await client.submit({"incr": "hits"}) for _ in range(5)] == [1, 2, 3, 4, 5]
        assert client.leader == first
        await cluster.crash(first)
        # The client finds the new leader by itself (NotLeader hints, NodeStopped, retries).
        assert [await client.submit({"incr": "hits"}) for _ in range(5)] == [6, 7, 8, 9, 10]
        assert client.leader not in (None, first)
        assert await client.query("hits") == 10
        await converged(cluster, cluster.node(client.leader).applied_index)
        for node_id in cluster.nodes:
            machine = cluster.machines[node_id]
            assert isinstance(machine, Counters)
            assert machine.counts == {"hits": 10} and machine.applied == 10


class LosesFirstAnswer(NodeClient[Any]):
    """A client whose first answer is lost on its way back: the command committed, the caller timed out."""

    lost = False

    async def _propose_on(self, node_id: str, proposal: Any, data: bytes, timeout: float) -> Any:
        result = await super()._propose_on(node_id, proposal, data, timeout)
        if not self.lost:
            self.lost = True
            raise TimeoutError("the answer was lost")
        return result


async def test_the_retry_of_a_committed_command_is_applied_once_on_an_own_state_machine() -> None:
    async with LocalCluster(3, seed=12, state_machine=Counters) as cluster:
        await cluster.wait_for_leader()
        client = LosesFirstAnswer(cluster, "retrying", codec=JsonSessions())
        assert await client.submit({"incr": "x"}) == 1  # the retry gets the first result back
        assert client.lost and client.retries >= 1
        assert await client.submit({"incr": "x"}) == 2
        assert await client.query("x") == 2
        leader = cluster.node(await cluster.wait_for_leader())
        await converged(cluster, leader.applied_index)
        assert [m.applied for m in cluster.machines.values() if isinstance(m, Counters)] == [2, 2, 2]


class KVCodec:
    """A user's own codec for a machine without sessions: the command list as it is."""

    def propose(self, client_id: str, seq: int, command: Any, ack_below: int) -> tuple[Any, bytes]:
        return command, cmd(*command)

    def describe(self, command: Any) -> str:
        return str(command[0])


async def test_any_codec_reaches_the_machine_and_cas_is_answered_after_a_failover() -> None:
    async with LocalCluster(3, seed=13, state_machine=KVMachine) as cluster:
        first = await cluster.wait_for_leader()
        client = cluster.client("kv", codec=KVCodec(), attempt_timeout=0.3)
        assert await client.submit(["put", "k", 1]) is None
        await cluster.crash(first)
        assert await client.submit(["cas", "k", 1, 2]) is True
        assert await client.submit(["cas", "k", 1, 3]) is False
        assert await client.query("k") == 2
