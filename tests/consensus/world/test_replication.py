"""Every replica computes the same results and state from the log alone.

Leases expire by committed time, which comes from the stamps in the log,
so three replicas that apply one sequence (stamps going backwards
included) agree on every result and on the final snapshot bytes; so does
a replica that joins from a snapshot midway, and a process with another
hash seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmteams.consensus.world import AcquireLock, Applied, Proposal, Rejected, WorldState, decode_proposal

from .support import Client, random_command, random_workload

WORKLOAD = random_workload(seed=7, n=600)


def run(entries: list[bytes], world: WorldState | None = None) -> tuple[list[Applied | Rejected], bytes]:
    world = world or WorldState()
    return [world.apply(e) for e in entries], world.snapshot()


def decoded(data: bytes) -> Proposal | None:
    try:
        return decode_proposal(data)
    except ValueError:
        return None


def test_three_replicas_agree_on_every_result_and_the_final_snapshot() -> None:
    replicas = [WorldState() for _ in range(3)]
    takeovers = 0
    outcomes: Counter[str] = Counter()
    for data in WORKLOAD:
        leader = replicas[0]
        proposal = decoded(data)
        command = proposal.command if proposal else None
        held_before = set(leader.locks)
        results = [r.apply(data) for r in replicas]
        assert results[0] == results[1] == results[2]
        outcomes[results[0].reason.value if isinstance(results[0], Rejected) else "applied"] += 1
        if isinstance(command, AcquireLock) and results[0].ok and command.resource in held_before:
            takeovers += 1  # the resource was never released: its holder's lease ran out
    assert replicas[0].snapshot() == replicas[1].snapshot() == replicas[2].snapshot()
    # The workload really exercised expiry and the other paths, or agreement would prove little.
    assert takeovers >= 5
    for reason in ("lease_expired", "stale_token", "claim_taken", "lock_held", "session_expired", "invalid_command"):
        assert outcomes[reason] > 0, reason


def test_stamps_that_go_backwards_do_not_change_expiry() -> None:
    stamps = [p.stamp for p in map(decoded, WORKLOAD) if p is not None]
    assert any(b < a for a, b in zip(stamps, stamps[1:]))  # the workload does go backwards
    world = WorldState()
    clock = 0.0
    for data in WORKLOAD:
        world.apply(data)
        assert world.clock >= clock
        clock = world.clock


_REPLAY = """
import hashlib, json, sys
from lmteams.consensus.world import WorldState
w = WorldState()
h = hashlib.sha256()
for line in open(sys.argv[1]):
    h.update(w.apply(bytes.fromhex(line.strip())).model_dump_json().encode())
h.update(w.snapshot())
print(h.hexdigest())
"""


def test_replicas_in_processes_with_different_hash_seeds_agree(tmp_path: Path) -> None:
    log = tmp_path / "log.hex"
    log.write_text("\n".join(e.hex() for e in WORKLOAD) + "\n")
    results, snap = run(WORKLOAD)
    here = hashlib.sha256()
    for r in results:
        here.update(r.model_dump_json().encode())
    here.update(snap)
    digests = {here.hexdigest()}
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", _REPLAY, str(log)], env=env, capture_output=True, text=True, check=True, timeout=60
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


@pytest.mark.parametrize("cut", [0, 1, 57, 300, 451, len(WORKLOAD)])
def test_a_replica_restored_midway_continues_identically(cut: int) -> None:
    all_results, all_snapshot = run(WORKLOAD)
    first = WorldState()
    for data in WORKLOAD[:cut]:
        first.apply(data)
    joined = WorldState.from_snapshot(first.snapshot())
    rest_results, rest_snapshot = run(WORKLOAD[cut:], joined)
    assert rest_results == all_results[cut:]
    assert rest_snapshot == all_snapshot


# -- the same with hypothesis: random command sequences --------------------------

steps = st.lists(
    st.tuples(
        st.integers(0, 2),  # client
        st.integers(0, 2**32 - 1),  # seed for the command
        st.sampled_from([0.0, 0.2, 1.0, 3.0]),  # time passing
        st.sampled_from([0.0, 0.0, -2.5, 0.7]),  # this leader's clock error
        st.booleans(),  # retry an earlier seq instead
    ),
    max_size=60,
)


@given(steps=steps, cut=st.integers(0, 60))
def test_random_sequences_replicate_and_survive_a_snapshot(
    steps: list[tuple[int, int, float, float, bool]], cut: int
) -> None:
    clients = [Client(f"c{i}") for i in range(3)]
    entries, t, tokens = [], 10.0, 0
    for who, seed, dt, skew, retry in steps:
        t += dt
        client = clients[who]
        if retry and client.seq:
            entries.append(client.retry(random.Random(seed).randint(1, client.seq), max(0.0, t + skew)))
        else:
            tokens += 1
            entries.append(client.propose(random_command(random.Random(seed), tokens // 2), max(0.0, t + skew)))
    a, b, c = WorldState(), WorldState(), WorldState()
    results_a = [a.apply(e) for e in entries]
    results_b = [b.apply(e) for e in entries]
    cut = min(cut, len(entries))
    for e in entries[:cut]:
        c.apply(e)
    c = WorldState.from_snapshot(c.snapshot())
    results_c = [c.apply(e) for e in entries[cut:]]
    assert results_a == results_b
    assert results_c == results_a[cut:]
    assert a.snapshot() == b.snapshot() == c.snapshot()
    assert json.loads(a.snapshot())["clock"] == a.clock
