"""Linearizability of a real LocalCluster under a seeded nemesis.

Concurrent clients put, get (ReadIndex) and cas through ``Client`` while a
nemesis partitions, heals, crashes and restarts nodes. Every history must
pass ``check_linearizable``. A client that gives up (``ClientTimeout``)
leaves its operation indeterminate, as it should: it may have happened.
"""

from __future__ import annotations

import random

import anyio
import pytest

from lmteams.consensus import RaftConfig
from lmteams.consensus.client.session import ClientTimeout
from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.testing import History, KVModel, check_linearizable

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]

KEYS = ("x", "y")


async def client_loop(
    cluster: LocalCluster, history: History, name: str, rng: random.Random, seconds: float, reads: float
) -> None:
    """Every write is unique (Jepsen's trick), so a stale read cannot be
    explained away by some other write of the same value. ``reads`` is this
    client's share of gets: read-heavy clients stay on a node as long as it
    answers them, which is what exposes a read path that trusts a stale leader."""
    client = cluster.client(name, attempt_timeout=0.1, deadline=2.0)
    seen: dict[str, object] = {}
    stop_at = anyio.current_time() + seconds
    n = 0
    while anyio.current_time() < stop_at:
        await anyio.sleep(rng.uniform(0, 0.004))  # think time, so faults land mid-workload
        key = rng.choice(KEYS)
        kind = rng.random()
        n += 1
        fresh = f"{name}.{n}"
        is_read = kind < reads
        if is_read:
            op = history.invoke(name, ("get", key))
            call = client.get(key)
        elif rng.random() < 0.6:
            op = history.invoke(name, ("put", key, fresh))
            call = client.put(key, fresh)
        else:
            expected = seen.get(key)
            op = history.invoke(name, ("cas", key, expected, fresh))
            call = client.cas(key, expected, fresh)
        try:
            result = await call
        except ClientTimeout:
            return  # indeterminate: stays open in the history; this client stops
        history.complete(op, result)
        if is_read:
            seen[key] = result


async def nemesis(cluster: LocalCluster, rng: random.Random, stop: anyio.Event) -> int:
    """Faults every 50-250 ms. Isolating the leader is the one that catches
    stale reads: until check-quorum deposes it, it still believes it leads."""
    faults = 0
    while not stop.is_set():
        await anyio.sleep(rng.uniform(0.05, 0.25))
        action = rng.random()
        running = sorted(cluster.nodes)
        down = [n for n in cluster.ids if n not in cluster.nodes]
        leader = cluster.leader()
        if action < 0.3 and leader is not None:
            cluster.isolate(leader)
        elif action < 0.45:
            shuffled = rng.sample(cluster.ids, len(cluster.ids))
            cut = rng.randint(1, len(shuffled) - 1)
            cluster.partition(shuffled[:cut], shuffled[cut:])
        elif action < 0.65:
            cluster.heal()
        elif action < 0.8 and len(running) > 1:
            await cluster.crash(rng.choice(running))
        elif down:
            await cluster.restart(rng.choice(down))
        faults += 1
    cluster.heal()
    for n in cluster.ids:
        if n not in cluster.nodes:
            await cluster.restart(n)
    return faults


async def run_once(
    seed: int, transport: str, check_quorum: bool, clients: int = 6, seconds: float = 3.0
) -> tuple[int, int, object]:
    rng = random.Random(seed)
    history = History()
    # Without check-quorum an isolated leader keeps believing it leads until
    # it hears a higher term: reads must stay linearizable through ReadIndex
    # alone, and a read path that trusts the belief is caught at once.
    config = RaftConfig(check_quorum=check_quorum)
    async with LocalCluster(3, seed=seed, transport=transport, config=config) as cluster:
        await cluster.wait_for_leader()
        stop = anyio.Event()
        faults: list[int] = []

        async def run_nemesis() -> None:
            faults.append(await nemesis(cluster, random.Random(rng.getrandbits(32)), stop))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run_nemesis)
            async with anyio.create_task_group() as workers:
                for i in range(clients):
                    reads = 0.1 if i < clients // 3 else 0.9  # a third write, the rest mostly read
                    client_rng = random.Random(rng.getrandbits(32))
                    workers.start_soon(client_loop, cluster, history, f"c{i}", client_rng, seconds, reads)
            stop.set()
    result = check_linearizable(history.operations(), KVModel())
    return len(history), faults[0], result


@pytest.mark.parametrize("seed", range(6))
async def test_memory_cluster_histories_are_linearizable(seed: int) -> None:
    count, faults, result = await run_once(seed, "memory", check_quorum=seed % 2 == 0)
    assert count >= 200, f"only {count} operations ran"
    assert faults >= 5
    assert result.ok, str(result)


@pytest.mark.parametrize("check_quorum", [False, True])
async def test_tcp_cluster_histories_are_linearizable(check_quorum: bool) -> None:
    count, faults, result = await run_once(100, "tcp", check_quorum=check_quorum)
    assert count >= 200
    assert faults >= 5
    assert result.ok, str(result)
