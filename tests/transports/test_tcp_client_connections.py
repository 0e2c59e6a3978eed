"""Client connections on a TcpTransport's listener: the handshake's CLIENT role, request/response frames
on one connection, and refusal (logged, counted) of clients that do not authenticate."""

from __future__ import annotations

import secrets
import struct
from typing import Any

import anyio
import pytest
from structlog.testing import capture_logs

from lmteams.transports import (
    ConnectionRole,
    FramedConnection,
    FrameTooLarge,
    HandshakeError,
    TcpTransport,
    open_connection,
)
from lmteams.transports.framing import encode_frame
from lmteams.transports.handshake import MAC_SIZE, NONCE_SIZE, client_mac, server_mac

SECRET = b"lmteams-test-secret-0123456789ab"  # the same secret as conftest's transports

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def echo(connection: FramedConnection) -> None:
    """A request/response handler: answer every frame with ``remote_id + b": " + frame``; b"boom" is a bug."""
    while True:
        try:
            request = await connection.receive()
        except anyio.EndOfStream:
            return
        if request == b"boom":
            raise RuntimeError("handler bug")
        await connection.send(connection.remote_id.encode() + b": " + request)


async def wait_until(condition: Any, timeout: float = 5.0) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.01)


async def peers_still_work(server: TcpTransport, alice: TcpTransport, marker: bytes) -> None:
    await alice.send("server", marker)
    with anyio.fail_after(5):
        async for peer, data in server:
            if (peer, data) == ("alice", marker):
                return


async def connect(server: TcpTransport, client_id: str = "app-1", **kwargs: Any) -> FramedConnection:
    options: dict[str, Any] = {"secret": SECRET, "client_id": client_id, "expected_node": "server"}
    options.update(kwargs)
    with anyio.fail_after(5):
        return await open_connection(server.listen_address, **options)


@pytest.fixture
async def server_and_alice(tcp_factory: Any) -> Any:
    server = tcp_factory("server", {"alice": None}, client_handler=echo, max_frame_size=1024, handshake_timeout=1.0)
    async with server:
        async with tcp_factory("alice", {"server": server.listen_address}) as alice:
            await peers_still_work(server, alice, b"warm-up")
            yield server, alice


async def test_a_client_gets_responses_on_its_own_connection(server_and_alice: Any) -> None:
    server, alice = server_and_alice
    async with await connect(server) as one, await connect(server, "app-2") as two:
        for i in range(3):
            await one.send(b"ping %d" % i)
            await two.send(b"pong %d" % i)
            with anyio.fail_after(5):
                assert await one.receive() == b"app-1: ping %d" % i
                assert await two.receive() == b"app-2: pong %d" % i
    # Client frames never reach the Raft inbox, and peers are unaffected.
    await peers_still_work(server, alice, b"after clients")
    assert server.stats.received == 2
    assert server.stats.rejected_connections == 0


async def test_a_client_may_use_a_peer_id_without_becoming_that_peer(server_and_alice: Any) -> None:
    server, alice = server_and_alice
    async with await connect(server, "alice") as imposter:
        await imposter.send(b"hello")
        with anyio.fail_after(5):
            assert await imposter.receive() == b"alice: hello"
        # The real alice's inbound connection was not replaced by the client's.
        await peers_still_work(server, alice, b"alice is still alice")
    assert server.stats.received == 2


async def test_a_client_with_the_wrong_secret_is_refused_and_logged(server_and_alice: Any) -> None:
    server, alice = server_and_alice
    with capture_logs() as logs:
        with pytest.raises(HandshakeError) as raised:
            await connect(server, secret=b"not the cluster's secret")
        await wait_until(lambda: server.stats.rejection_reasons["bad_hmac"] == 1)
    assert raised.value.reason == "refused"
    rejected = [e for e in logs if e["event"] == "tcp.connection_rejected"]
    assert rejected and rejected[0]["reason"] == "bad_hmac"
    await peers_still_work(server, alice, b"after a bad client")
    async with await connect(server) as good:  # and clients with the secret still get in
        await good.send(b"x")
        with anyio.fail_after(5):
            assert await good.receive() == b"app-1: x"


async def test_a_client_that_reached_the_wrong_node_notices(server_and_alice: Any) -> None:
    server, _ = server_and_alice
    with pytest.raises(HandshakeError) as raised:
        await connect(server, expected_node="elsewhere")
    assert raised.value.reason == "bad_server_hmac"


async def test_a_transport_without_a_handler_refuses_clients(tcp_factory: Any) -> None:
    async with tcp_factory("server", {"alice": None}) as server:
        with pytest.raises(HandshakeError, match="does not serve clients"):
            await connect(server)
        await wait_until(lambda: server.stats.rejection_reasons["clients_not_accepted"] == 1)


async def test_a_client_id_is_not_a_peer_id(tcp_factory: Any) -> None:
    """The PEER role still requires a known peer id; only the CLIENT role may name itself."""
    async with tcp_factory("server", {"alice": None}, client_handler=echo) as server:
        async with tcp_factory("stranger", {"server": server.listen_address}):
            await wait_until(lambda: server.stats.rejection_reasons["unknown_peer"] >= 1)
        assert server.stats.connections_in == 0


async def test_an_oversized_client_frame_closes_only_that_connection(server_and_alice: Any) -> None:
    server, alice = server_and_alice
    async with await connect(server, max_frame_size=1024) as client:
        with pytest.raises(FrameTooLarge):
            await client.send(bytes(2048))  # refused locally: the client knows the limit
        client.max_frame_size = 2**20  # now lie to get it on the wire
        await client.send(bytes(2048))
        with anyio.fail_after(5), pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
            await client.receive()
    await wait_until(lambda: server.stats.rejection_reasons["frame_too_large"] == 1)
    await peers_still_work(server, alice, b"after an oversized client frame")


async def test_a_failing_handler_costs_one_connection(server_and_alice: Any) -> None:
    server, alice = server_and_alice
    async with await connect(server) as client:
        await client.send(b"boom")
        with anyio.fail_after(5), pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
            await client.receive()
    await wait_until(lambda: server.stats.rejection_reasons["internal_error"] == 1)
    await peers_still_work(server, alice, b"after a handler bug")


async def raw_handshake(server: TcpTransport, *, sent_role: int, mac_role: int) -> bytes:
    """Run the client side by hand, sending `sent_role` but MAC'ing `mac_role`; return what the server answers."""
    async with await anyio.connect_tcp(*server.listen_address) as raw:
        with anyio.fail_after(5):
            greeting = b""
            while len(greeting) < 1 + NONCE_SIZE:
                greeting += await raw.receive()
            client_nonce = secrets.token_bytes(NONCE_SIZE)
            name = b"app"
            mac = client_mac(SECRET, greeting[1:], client_nonce, name, mac_role)
            await raw.send(bytes([len(name)]) + name + client_nonce + bytes([sent_role]) + mac)
            answer = b""
            try:
                while len(answer) < MAC_SIZE:
                    answer += await raw.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                pass
            if answer:
                assert answer == server_mac(SECRET, client_nonce, greeting[1:], b"server")
            return answer


async def test_the_role_is_covered_by_the_mac(server_and_alice: Any) -> None:
    server, _ = server_and_alice
    assert await raw_handshake(server, sent_role=ConnectionRole.CLIENT, mac_role=ConnectionRole.CLIENT)
    assert not await raw_handshake(server, sent_role=ConnectionRole.PEER, mac_role=ConnectionRole.CLIENT)
    await wait_until(lambda: server.stats.rejection_reasons["bad_hmac"] == 1)
    assert not await raw_handshake(server, sent_role=7, mac_role=7)
    await wait_until(lambda: server.stats.rejection_reasons["bad_role"] == 1)


async def test_client_connections_are_bounded(tcp_factory: Any) -> None:
    async with tcp_factory("server", {}, client_handler=echo, max_client_connections=1) as server:
        async with await connect(server) as first:
            second = await connect(server, "app-2")  # authenticated, then closed: no slot
            async with second:
                with anyio.fail_after(5), pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                    await second.receive()
            assert server.stats.rejection_reasons["too_many_clients"] == 1
            await first.send(b"still served")
            with anyio.fail_after(5):
                assert await first.receive() == b"app-1: still served"


async def test_a_cut_request_frame_is_counted(server_and_alice: Any) -> None:
    server, alice = server_and_alice
    client = await connect(server)
    stream = client._stream  # write a frame that ends early, by hand
    await stream.send(encode_frame(b"whole") + struct.pack(">I", 100) + b"only ten b")
    await client.aclose()
    await wait_until(lambda: server.stats.rejection_reasons["truncated_frame"] == 1)
    await peers_still_work(server, alice, b"after a cut client frame")
