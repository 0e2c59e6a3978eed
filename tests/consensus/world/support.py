"""Helpers for the world-state tests: a client that numbers its proposals, and a seeded workload."""

from __future__ import annotations

import random
from typing import Any

from lmteams.consensus.world import (
    AcquireLock,
    Cas,
    CheckFence,
    ClaimTask,
    CompleteTask,
    Delete,
    Get,
    ListTasks,
    Proposal,
    Put,
    ReleaseLock,
    ReleaseTask,
    RenewClaim,
    RenewLock,
    TaskStatusQuery,
    encode_proposal,
)


class Client:
    """Numbers its proposals 1, 2, 3, ... and can retry one with a new leader's stamp."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.seq = 0
        self.sent: dict[int, Proposal] = {}

    def propose(self, command: Any, stamp: float, ack_below: int = 0) -> bytes:
        self.seq += 1
        proposal = Proposal(client_id=self.client_id, seq=self.seq, command=command, stamp=stamp, ack_below=ack_below)
        self.sent[self.seq] = proposal
        return encode_proposal(proposal)

    def retry(self, seq: int, stamp: float) -> bytes:
        """The same (client_id, seq, command), as a new leader would stamp it."""
        return encode_proposal(self.sent[seq].model_copy(update={"stamp": stamp}))


AGENTS = ("A", "B", "C")
TASKS = ("t1", "t2", "t3")
RESOURCES = ("r1", "r2")
KEYS = ("k1", "k2")
LEASES = (0.5, 1.0, 2.5, 4.0)


def random_command(rng: random.Random, last_token: int) -> Any:
    agent, task, res, key = rng.choice(AGENTS), rng.choice(TASKS), rng.choice(RESOURCES), rng.choice(KEYS)
    lease = rng.choice(LEASES)
    token = rng.randint(1, last_token + 1)
    return rng.choice(
        [
            Put(key=key, value=rng.choice([1, 1.0, True, "x", None, [1, {"a": 2}], {"b": [], "a": 1}])),
            Get(key=key),
            Delete(key=key),
            Cas(key=key, expected=rng.choice([None, 1, "x"]), new=rng.randint(0, 3)),
            ClaimTask(task=task, agent=agent, lease_s=rng.choice((None, *LEASES))),
            RenewClaim(task=task, agent=agent, lease_s=lease),
            ReleaseTask(task=task, agent=agent),
            CompleteTask(task=task, agent=agent, result={"by": agent}),
            TaskStatusQuery(task=task),
            ListTasks(),
            AcquireLock(resource=res, agent=agent, lease_s=lease),
            AcquireLock(resource=res, agent=agent, lease_s=lease),
            RenewLock(resource=res, agent=agent, token=token, lease_s=lease),
            ReleaseLock(resource=res, agent=agent, token=token),
            CheckFence(resource=res, token=token),
        ]
    )


def random_workload(seed: int, n: int) -> list[bytes]:
    """``n`` entries from 4 clients, with retries and acks, and stamps that sometimes go backwards
    (as two leaders' clocks might), plus a few malformed entries."""
    rng = random.Random(seed)
    clients = [Client(f"c{i}") for i in range(4)]
    entries: list[bytes] = []
    t = 100.0
    tokens_seen = 0
    for _ in range(n):
        t += rng.choice([0.0, 0.1, 0.3, 0.7, 1.5])
        stamp = max(0.0, t + rng.choice([0.0, 0.0, 0.0, -2.0, -0.5, 0.4]))
        client = rng.choice(clients)
        roll = rng.random()
        if roll < 0.03:
            entries.append(rng.choice([b"", b"{", b'{"client_id":"c0"}', b'{"op":"put"}']))
        elif roll < 0.15 and client.seq:
            entries.append(client.retry(rng.randint(1, client.seq), stamp))
        else:
            tokens_seen += 1
            ack = rng.randint(0, client.seq + 1) if rng.random() < 0.2 else 0
            entries.append(client.propose(random_command(rng, tokens_seen // 3), stamp, ack_below=ack))
    return entries
