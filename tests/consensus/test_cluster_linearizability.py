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

from consensus.client import ClientTimeout
from consensus.cluster import LocalCluster
from consensus.testing import History, KVModel, check_linearizable

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240)]

KEYS = ("x", "y")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def client_loop(cluster: LocalCluster, history: History, name: str, rng: random.Random, ops: int) -> None:
    client = cluster.client(name, attempt_timeout=0.3, deadline=2.0)
    for _ in range(ops):
        key = rng.choice(KEYS)
        kind = rng.random()
        if kind < 0.4:
            value = rng.randrange(5)
            op = history.invoke(name, ("put", key, value))
            call = client.put(key, value)
        elif kind < 0.75:
            op = history.invoke(name, ("get", key))
            call = client.get(key)
        else:
            old, new = rng.randrange(5), rng.randrange(5)
            op = history.invoke(name, ("cas", key, old, new))
            call = client.cas(key, old, new)
        try:
            result = await call
        except ClientTimeout:
            return  # indeterminate: stays open in the history; this client stops
        history.complete(op, result)


async def nemesis(cluster: LocalCluster, rng: random.Random, stop: anyio.Event) -> int:
    faults = 0
    while not stop.is_set():
        await anyio.sleep(rng.uniform(0.05, 0.25))
        action = rng.random()
        running = sorted(cluster.nodes)
        down = [n for n in cluster.ids if n not in cluster.nodes]
        if action < 0.3:
            shuffled = rng.sample(cluster.ids, len(cluster.ids))
            cut = rng.randint(1, len(shuffled) - 1)
            cluster.partition(shuffled[:cut], shuffled[cut:])
        elif action < 0.5:
            cluster.heal()
        elif action < 0.7 and len(running) > 1:
            await cluster.crash(rng.choice(running))
        elif down:
            await cluster.restart(rng.choice(down))
        faults += 1
    cluster.heal()
    for n in cluster.ids:
        if n not in cluster.nodes:
            await cluster.restart(n)
    return faults


async def run_once(seed: int, transport: str, clients: int = 4, ops: int = 40) -> tuple[int, int, object]:
    rng = random.Random(seed)
    history = History()
    async with LocalCluster(3, seed=seed, transport=transport) as cluster:
        await cluster.wait_for_leader()
        stop = anyio.Event()
        faults: list[int] = []

        async def run_nemesis() -> None:
            faults.append(await nemesis(cluster, random.Random(rng.getrandbits(32)), stop))

        async with anyio.create_task_group() as tg:
            tg.start_soon(run_nemesis)
            async with anyio.create_task_group() as workers:
                for i in range(clients):
                    workers.start_soon(client_loop, cluster, history, f"c{i}", random.Random(rng.getrandbits(32)), ops)
            stop.set()
    result = check_linearizable(history.operations(), KVModel())
    return len(history), faults[0], result


@pytest.mark.parametrize("seed", range(4))
async def test_memory_cluster_histories_are_linearizable(seed: int) -> None:
    count, faults, result = await run_once(seed, "memory")
    assert count >= 40, f"only {count} operations ran"
    assert faults > 0
    assert result.ok, str(result)


async def test_tcp_cluster_history_is_linearizable() -> None:
    count, faults, result = await run_once(100, "tcp")
    assert count >= 40
    assert faults > 0
    assert result.ok, str(result)
