"""The apply path's shortcuts give exactly what the plain code gives: digests, canonical text, private results."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lmteams.consensus.world import Applied, Cas, Get, Proposal, Put, WorldState, decode_proposal
from lmteams.consensus.world.sessions import command_digest
from lmteams.consensus.world.values import canonical

from .support import Client, random_command, random_workload


def reference_canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def reference_digest(proposal: Proposal) -> str:
    text = reference_canonical(proposal.command.model_dump(mode="json"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_canonical_is_sorted_compact_json(value: Any) -> None:
    assert canonical(value) == reference_canonical(value)


@settings(max_examples=200, deadline=None)
@given(key=st.text(min_size=1, max_size=20).filter(str.strip), value=json_values)
def test_put_digest_is_the_canonical_json_digest(key: str, value: Any) -> None:
    data = Client("c").propose(Put(key=key, value=value), stamp=1.0)
    proposal = decode_proposal(data)
    assert command_digest(proposal) == reference_digest(proposal)


def test_every_command_digest_is_the_canonical_json_digest() -> None:
    rng = random.Random(5)
    for i in range(500):
        command = random_command(rng, last_token=i // 3)
        proposal = decode_proposal(Client("c").propose(command, stamp=1.0))
        assert command_digest(proposal) == reference_digest(proposal), command
    for data in random_workload(11, 300):
        try:
            proposal = decode_proposal(data)
        except ValueError:
            continue
        assert command_digest(proposal) == reference_digest(proposal)


def test_a_container_result_stays_private_to_its_caller() -> None:
    w, a = WorldState(), Client("a")
    first = w.apply(a.propose(Cas(key="k", expected=None, new=[1, {"x": 2}]), stamp=1))
    before = w.snapshot()
    assert isinstance(first, Applied)
    mine: Any = first.value
    mine.append("mutated by the caller")
    mine[1]["x"] = 99
    again = w.apply(a.retry(1, stamp=2))
    assert again == Applied(value=[1, {"x": 2}])
    assert isinstance(again, Applied) and again.value is not first.value
    theirs: Any = again.value
    theirs.clear()
    assert w.apply(a.retry(1, stamp=3)) == Applied(value=[1, {"x": 2}])
    assert w.snapshot() == before
    assert w.query(Get(key="k")) == Applied(value=[1, {"x": 2}])


def test_the_leader_stamp_replaces_the_proposals_own_without_changing_it() -> None:
    w, a = WorldState(), Client("a")
    data = a.propose(Put(key="k", value=1), stamp=500.0)
    w.apply(data, 7.0)
    assert w.clock == 7.0
    assert decode_proposal(data).stamp == 500.0
    w.apply(a.propose(Put(key="k", value=2), stamp=0.0))  # no leader stamp: the proposal's own
    assert w.clock == 7.0
    w.apply(a.propose(Put(key="k", value=3), stamp=9.5))
    assert w.clock == 9.5
