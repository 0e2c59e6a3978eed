"""The pydantic-free paths for a plain ``Put`` give exactly what the models give.

``client_proposal`` must build the same proposal and bytes as ``Proposal(...)`` + ``encode_proposal``
(or raise the same error), ``decode_plain_put`` may only accept what ``decode_proposal`` accepts, with
the same fields, and a ``WorldState`` must reach the same results and snapshots either way.
"""

from __future__ import annotations

import copy
import pickle
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import lmteams.consensus.world.machine as machine_module
from lmteams.consensus.world import (
    MAX_PROPOSAL_BYTES,
    Cas,
    Delete,
    Get,
    InvalidCommand,
    Proposal,
    Put,
    WorldState,
    decode_proposal,
    encode_proposal,
)
from lmteams.consensus.world.commands import MAX_SEQ, client_proposal, decode_plain_put
from lmteams.consensus.world.sessions import command_digest, put_digest
from lmteams.consensus.world.values import canonical

# Characters around every boundary of the plain set: controls, space, quote, backslash, DEL, non-ASCII.
TRICKY = ' \t\n\x00\x1f"\\\x7f\x80\xa0\u3000\u2028\ud7ff\U0001f600'
texts = st.text(alphabet=st.sampled_from("abz09-_ .:{}[],/" + TRICKY), max_size=12) | st.sampled_from(
    ["", " ", "   ", "a" * 256, "a" * 257, " " * 256, "v" * 200]
)
counts = st.sampled_from([0, 1, 2, 9, 10, 99, 10**17, 10**18 - 1, 10**18, MAX_SEQ, MAX_SEQ + 1, -1])


def outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - the error is what is compared
        return ("error", type(exc), str(exc))


def reference_client_proposal(client_id: Any, seq: Any, command: Any, ack_below: Any) -> tuple[Proposal, bytes]:
    proposal = Proposal(client_id=client_id, seq=seq, command=command, stamp=0.0, ack_below=ack_below)
    return proposal, encode_proposal(proposal)


def assert_same_model(fast: Any, slow: Any) -> None:
    assert type(fast) is type(slow)
    assert fast == slow and repr(fast) == repr(slow)
    assert outcome(lambda: hash(fast)) == outcome(lambda: hash(slow))
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__ and fast.__pydantic_private__ == slow.__pydantic_private__
    assert copy.deepcopy(fast) == slow and pickle.loads(pickle.dumps(fast)) == slow


def assert_same_client_proposal(client_id: Any, seq: Any, command: Any, ack_below: Any) -> None:
    fast = outcome(lambda: client_proposal(client_id, seq, command, ack_below))
    slow = outcome(lambda: reference_client_proposal(client_id, seq, command, ack_below))
    if slow[0] == "error":
        assert fast[0] == "error" and fast[1] is slow[1] and fast[2] == slow[2]
        return
    assert fast[0] == "ok", fast
    (fast_proposal, fast_data), (slow_proposal, slow_data) = fast[1], slow[1]
    assert fast_data == slow_data
    assert_same_model(fast_proposal, slow_proposal)
    assert fast_proposal.command is command


def assert_decodes_as_the_model(data: Any) -> None:
    plain = decode_plain_put(data)
    if plain is None:
        return
    proposal = decode_proposal(data)  # raises if the fast path accepted what the model refuses
    client_id, seq, ack_below, command, key_json, value_json = plain
    assert (client_id, seq, ack_below, proposal.stamp) == (proposal.client_id, proposal.seq, proposal.ack_below, 0.0)
    assert type(seq) is int and type(ack_below) is int
    assert_same_model(command, proposal.command)
    assert put_digest(key_json, value_json) == command_digest(proposal)
    assert (key_json, value_json) == (canonical(command.key), canonical(command.value))


@given(client_id=texts, key=texts, value=texts, seq=counts, ack_below=counts)
def test_client_proposal_is_the_model_and_its_encoding(
    client_id: str, key: str, value: str, seq: int, ack_below: int
) -> None:
    try:
        command = Put(key=key, value=value)
    except ValueError:
        command = Put(key="k", value=value)
    assert_same_client_proposal(client_id, seq, command, ack_below)
    _, data = reference_client_proposal("c", 1, command, 1)
    assert_decodes_as_the_model(data)


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # the model's path, for the bad Put
def test_client_proposal_falls_back_for_everything_else() -> None:
    put = Put(key="k", value="v")
    odd_put = Put.model_construct(op="get", key="k", value="v")  # pydantic refuses it as a Proposal command
    missing = Put.model_construct(key="k")

    class MyStr(str):
        pass

    cases: list[tuple[Any, Any, Any, Any]] = [
        ("c", 1, Get(key="k"), 0),
        ("c", 2, Delete(key="k"), 1),
        ("c", 1, Cas(key="k", expected=None, new="x"), 0),
        ("c", 1, Put(key="k", value=[1, {"a": "b"}]), 0),
        ("c", 1, Put(key="k", value=1.5), 0),
        ("c", 1, Put(key="k", value=None), 0),
        ("c", 1, odd_put, 0),
        ("c", 1, missing, 0),
        ("c", 1, "not a command", 0),
        ("c", True, put, 0),
        ("c", 1, put, True),
        ("c", 1.0, put, 0),
        ("c", 0, put, 0),
        ("c", 3, put, 4),
        ("c", MAX_SEQ + 1, put, 0),
        (MyStr("c"), 1, put, 0),
        (None, 1, put, 0),
        ("", 1, put, 0),
        ("  ", 1, put, 0),
        ("\u3000", 1, put, 0),
        ("é", 1, put, 0),
        ("a" * 257, 1, put, 0),
        ("c", 1, Put(key="k", value="x" * MAX_PROPOSAL_BYTES), 0),
    ]
    for case in cases:
        assert_same_client_proposal(*case)
    with pytest.raises(InvalidCommand, match="byte limit"):
        client_proposal("c", 1, Put(key="k", value="x" * MAX_PROPOSAL_BYTES), 0)


def plain_entry(rng: random.Random) -> bytes:
    key = rng.choice(["k", " k", "k ", "a" * 256, "b-1-2"])
    value = rng.choice(["", " ", "v" * 200, "x y", "~!#$%&'()*+,-./:;<=>?@[]^_`{|}"])
    seq = rng.choice([1, 2, 10**17, 10**18 - 1])
    return client_proposal(rng.choice(["c", " c", "bench-7"]), seq, Put(key=key, value=value), rng.randint(0, seq))[1]


def test_decode_plain_put_accepts_only_what_the_model_accepts() -> None:
    rng = random.Random(7)
    mutations = [b" ", b'"', b"\\", b"\x7f", b"\x80", b"\xc3\xa9", b"\x00", b"\n"]
    mutations += [b"0", b"1", b"-", b".", b"e", b"}", b","]
    accepted = 0
    for _ in range(3000):
        data = plain_entry(rng)
        for _ in range(rng.randint(0, 2)):
            at = rng.randrange(len(data) + 1)
            cut = rng.choice([0, 0, 1])
            data = data[:at] + rng.choice(mutations + [b""]) + data[at + cut :]
        assert_decodes_as_the_model(data)
        accepted += decode_plain_put(data) is not None
    assert accepted > 1000  # the fast path was really taken


def test_decode_plain_put_edge_cases() -> None:
    ok = b'{"client_id":"c","seq":%s,"command":{"op":"put","key":"k","value":"v"},"stamp":%s,"ack_below":%s}'
    assert decode_plain_put(ok % (b"1", b"0.0", b"0")) is not None
    assert decode_plain_put(ok % (b"999999999999999999", b"0.0", b"999999999999999999")) is not None
    for seq, stamp, ack in [
        (b"0", b"0.0", b"0"),  # seq starts at 1
        (b"2", b"0.0", b"3"),  # ack_below above seq
        (b"01", b"0.0", b"0"),  # not JSON
        (b"9223372036854775808", b"0.0", b"0"),  # above MAX_SEQ
        (b"1", b"1.0", b"0"),  # only the clients' stamp
        (b"1", b"0", b"0"),
        (b"1", b"-0.0", b"0"),
        (b"1", b"0.0", b"-0"),
    ]:
        data = ok % (seq, stamp, ack)
        assert decode_plain_put(data) is None
        assert_decodes_as_the_model(data)
    data = ok % (b"1", b"0.0", b"0")
    for blank in (data.replace(b'"c"', b'"   "'), data.replace(b'"k"', b'" "'), data.replace(b'"k"', b'""')):
        assert decode_plain_put(blank) is None
        with pytest.raises(InvalidCommand):
            decode_proposal(blank)
    for other in (bytearray(data), memoryview(data), data + b" ", b" " + data, data.replace(b":", b": ", 1)):
        assert decode_plain_put(other) is None  # type: ignore[arg-type]
    big = client_proposal("c", 1, Put(key="k", value="v" * (MAX_PROPOSAL_BYTES - 200)), 0)[1]
    assert decode_plain_put(big + b"") is not None
    over = big.replace(b'"value":"', b'"value":"' + b"v" * 200)
    assert len(over) > MAX_PROPOSAL_BYTES and decode_plain_put(over) is None


def plain_workload(seed: int, n: int) -> list[tuple[bytes, float | None]]:
    """Plain puts (mostly) from a few clients with retries, acks, reused seqs and stale sessions."""
    rng = random.Random(seed)
    sent: dict[str, list[Any]] = {c: [] for c in ("a", "b", "c", " d", "e-1")}
    out: list[tuple[bytes, float | None]] = []
    for _ in range(n):
        cid = rng.choice(list(sent))
        history = sent[cid]
        roll = rng.random()
        if history and roll < 0.15:  # a retry
            data = rng.choice(history)
        elif history and roll < 0.2:  # a reused seq with another command
            seq = rng.randint(1, len(history))
            data = client_proposal(cid, seq, Put(key="k", value=f"other {rng.random()}"), 0)[1]
        else:
            seq = len(history) + 1
            command = rng.choice(
                [Put(key=rng.choice(["k1", "k2", " k"]), value=rng.choice(["v" * 200, "", "x y"]))] * 4
                + [Put(key="k1", value=[1]), Put(key="k2", value='q"uote'), Delete(key="k1")]
            )
            ack = rng.randint(max(0, seq - 8), seq)
            data = client_proposal(cid, seq, command, ack)[1]
            history.append(data)
        out.append((data, rng.choice([None, None, 1.0 + len(out), 0.5])))
    return out


def run(workload: list[tuple[bytes, float | None]], **limits: int) -> tuple[list[Any], list[bytes]]:
    machine = WorldState(**limits)
    results, snapshots = [], []
    for i, (data, stamp) in enumerate(workload):
        results.append(machine.apply(data, stamp))
        if i % 50 == 0:
            snapshots.append(machine.snapshot())
    snapshots.append(machine.snapshot())
    return results, snapshots


@pytest.mark.parametrize("seed", range(4))
def test_the_machine_gives_the_same_results_and_snapshots_either_way(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload = plain_workload(seed, 600)
    assert sum(decode_plain_put(data) is not None for data, _ in workload) > 300
    for limits in ({}, {"max_sessions": 3, "max_results_per_session": 4}):
        fast = run(workload, **limits)
        with monkeypatch.context() as m:
            m.setattr(machine_module, "decode_plain_put", lambda data: None)
            slow = run(workload, **limits)
        assert fast == slow
