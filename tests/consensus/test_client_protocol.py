"""The client protocol, its server and RemoteClient, against NodeProcesses in this process
(real TCP on 127.0.0.1, real FileStorage with fsync). The multi-process crash tests are in
test_processes.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import pytest

from lmteams.consensus.client import Client, ClientTimeout, CommandRejected, SessionClient
from lmteams.consensus.client.protocol import (
    ErrorCode,
    ErrorResponse,
    ProposeRequest,
    ReadRequest,
    ResultResponse,
    StatusRequest,
    StatusResponse,
    decode_request,
    decode_response,
    encode,
)
from lmteams.consensus.client.remote import RemoteClient, parse_address
from lmteams.consensus.cluster.process import NodeConfig, NodeProcess
from lmteams.consensus.world import Applied, Cas, Get, Proposal, Put, Rejected
from lmteams.transports import Backoff, open_connection

from .ports import free_ports

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

SECRET = b"client-protocol-test-secret"
IDS = ("a", "b", "c")


def configs(tmp_path: Path) -> dict[str, NodeConfig]:
    ports = dict(zip(IDS, free_ports(len(IDS))))
    return {
        n: NodeConfig(
            node_id=n,
            listen=("127.0.0.1", ports[n]),
            peers={p: ("127.0.0.1", ports[p]) for p in IDS if p != n},
            data_dir=tmp_path / n,
            secret=SECRET,
            tick_interval=0.01,
            seed=i,
        )
        for i, n in enumerate(IDS)
    }


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[dict[str, NodeProcess]]:
    async with AsyncExitStack() as stack:
        procs = {n: await stack.enter_async_context(NodeProcess(cfg)) for n, cfg in configs(tmp_path).items()}
        yield procs


def remote(procs: dict[str, NodeProcess], client_id: str = "rc", **kwargs: object) -> RemoteClient:
    addresses = {n: p.config.listen for n, p in procs.items()}
    options: dict[str, object] = {"secret": SECRET, "seed": 1, "backoff": Backoff(base=0.01, cap=0.1)}
    options.update(kwargs)
    return RemoteClient(addresses, client_id, **options)  # type: ignore[arg-type]


async def leader_of(procs: dict[str, NodeProcess], timeout: float = 10.0) -> str:
    with anyio.fail_after(timeout):
        while True:
            leaders = [n for n, p in procs.items() if p.node is not None and p.node.is_leader]
            if leaders:
                return leaders[0]
            await anyio.sleep(0.01)


# -- the wire format on its own ---------------------------------------------------------------


def test_requests_and_responses_round_trip() -> None:
    proposal = Proposal(client_id="c", seq=2, ack_below=2, stamp=0.0, command=Put(key="k", value={"v": [1, 2.5]}))
    for request in (
        ProposeRequest(id=1, proposal=proposal),
        ReadRequest(id=2, command=Get(key="k")),
        StatusRequest(id=3),
    ):
        assert decode_request(encode(request)) == request
    for response in (
        ResultResponse(id=1, result=Applied(value=[1, "x"])),
        ResultResponse(id=2, result=Rejected(reason="cas_mismatch", detail="no")),
        ErrorResponse(id=None, code=ErrorCode.BAD_REQUEST, message="bad"),
    ):
        assert decode_response(encode(response)) == response


def test_addresses_parse_or_say_what_is_wrong() -> None:
    assert parse_address("127.0.0.1:7001") == ("127.0.0.1", 7001)
    assert parse_address("[::1]:80") == ("::1", 80)
    for bad in ("127.0.0.1", ":80", "host:0", "host:99999", "host:http"):
        with pytest.raises(ValueError, match="HOST:PORT|port"):
            parse_address(bad)


def test_both_clients_share_one_session_and_retry_implementation() -> None:
    assert issubclass(Client, SessionClient) and issubclass(RemoteClient, SessionClient)
    assert "_retry" not in vars(RemoteClient) and "_retry" not in vars(Client)
    assert "submit" not in vars(RemoteClient) and "submit" not in vars(Client)


# -- against a running cluster ------------------------------------------------------------------


async def test_remote_client_api_and_redirects(cluster: dict[str, NodeProcess]) -> None:
    leader = await leader_of(cluster)
    follower = next(n for n in IDS if n != leader)
    async with remote(cluster) as client:
        client._leader = follower  # start on a follower: its not_leader answer redirects
        await client.put("x", {"n": 1})
        assert client.leader == leader
        assert await client.get("x") == {"n": 1}
        assert await client.cas("x", {"n": 2}, 3) is False
        assert await client.cas("x", {"n": 1}, 3) is True
        assert await client.get("x") == 3
        assert await client.delete("x") is True
        assert await client.delete("x") is False
        assert await client.get("x") is None
        with pytest.raises(CommandRejected, match="cas_mismatch"):
            client._expect_applied(await client.submit(Cas(key="x", expected=1, new=2)))
        # Every replica applies the same prefix to the same world.
        with anyio.fail_after(10):
            while True:
                statuses = [await client.status(n) for n in IDS]
                if len({(s.applied_index, s.world_digest) for s in statuses}) == 1:
                    break
                await anyio.sleep(0.02)
        assert sorted(s.role for s in statuses) == ["follower", "follower", "leader"]
        assert {s.leader_id for s in statuses} == {leader}


async def test_not_leader_answers_carry_the_leaders_client_address(cluster: dict[str, NodeProcess]) -> None:
    leader = await leader_of(cluster)
    # Wait until every follower knows the leader, then ask a follower directly.
    with anyio.fail_after(10):
        while any(p.node.leader_id != leader for p in cluster.values()):  # type: ignore[union-attr]
            await anyio.sleep(0.01)
    follower = next(n for n in IDS if n != leader)
    server = cluster[follower].server
    assert server is not None
    response = await server.handle(encode(ReadRequest(id=5, command=Get(key="k"))))
    assert isinstance(response, ErrorResponse) and response.code == "not_leader" and response.id == 5
    host, port = cluster[leader].config.listen
    assert (response.leader_id, response.leader_address) == (leader, f"{host}:{port}")


async def test_garbage_from_an_authenticated_client_gets_an_error_and_the_node_keeps_serving(
    cluster: dict[str, NodeProcess],
) -> None:
    leader = await leader_of(cluster)
    address = cluster[leader].config.listen
    async with await open_connection(address, secret=SECRET, client_id="fuzz", expected_node=leader) as conn:
        garbage = [
            b"\xff\x00 not json",
            b"[]",
            b'{"v": 1, "id": 7, "type": "launch"}',
            b'{"v": 1, "id": 8, "type": "read", "command": {"op": "put", "key": "k", "value": 1}}',
            b'{"v": 2, "id": 9, "type": "status"}',
            json.dumps({"v": 1, "id": 10, "type": "propose", "proposal": {"client_id": "", "seq": 0}}).encode(),
            b"",
        ]
        expected_ids = [None, None, 7, 8, 9, 10, None]
        for frame, rid in zip(garbage, expected_ids):
            await conn.send(frame)
            with anyio.fail_after(5):
                response = decode_response(await conn.receive())
            assert isinstance(response, ErrorResponse), frame
            assert (response.code, response.id) == ("bad_request", rid), (frame, response)
        # The same connection still serves a good request.
        await conn.send(encode(StatusRequest(id=11)))
        with anyio.fail_after(5):
            response = decode_response(await conn.receive())
        assert isinstance(response, StatusResponse) and response.status.node_id == leader
    assert cluster[leader].server.bad_requests == len(garbage)  # type: ignore[union-attr]
    async with remote(cluster) as client:
        await client.put("after", "garbage")
        assert await client.get("after") == "garbage"


async def test_a_retried_request_is_applied_once(cluster: dict[str, NodeProcess]) -> None:
    leader = await leader_of(cluster)
    address = cluster[leader].config.listen
    first = ProposeRequest(id=1, proposal=Proposal(client_id="r", seq=1, stamp=0.0, command=Put(key="k", value=1)))
    other = ProposeRequest(id=2, proposal=Proposal(client_id="o", seq=1, stamp=0.0, command=Put(key="k", value=2)))
    async with await open_connection(address, secret=SECRET, client_id="r", expected_node=leader) as conn:
        for request in (first, other, first):  # the retry of r#1 must not overwrite o's write
            await conn.send(encode(request))
            with anyio.fail_after(5):
                assert isinstance(decode_response(await conn.receive()), ResultResponse)
    async with remote(cluster) as client:
        assert await client.get("k") == 2


async def test_an_unauthenticated_client_is_refused_and_the_node_keeps_serving(cluster: dict[str, NodeProcess]) -> None:
    await leader_of(cluster)
    async with remote(cluster, "intruder", secret=b"guessed", deadline=0.5, attempt_timeout=0.2) as intruder:
        with pytest.raises(ClientTimeout, match="secrets differ"):
            await intruder.put("x", "mine")
    assert sum(p.transport.stats.rejection_reasons["bad_hmac"] for p in cluster.values()) >= 1  # type: ignore[union-attr]
    async with remote(cluster) as client:
        assert await client.get("x") is None


async def test_an_unreachable_cluster_times_out_with_the_reason(tmp_path: Path) -> None:
    port = free_ports(1)[0]
    client = RemoteClient({"a": ("127.0.0.1", port)}, "lonely", secret=SECRET, deadline=0.3, attempt_timeout=0.1)
    with pytest.raises(ClientTimeout, match="cannot reach 'a'"):
        await client.get("x")
