"""Bad bytes from the network close that connection, are logged and counted, and never stop the node."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from anyio.streams.buffered import BufferedByteStream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmteams.transports import HandshakeError, TcpTransport
from lmteams.transports.framing import encode_frame
from lmteams.transports.handshake import client_handshake

SECRET = b"lmteams-test-secret-0123456789ab"  # the same secret as conftest's transports

pytestmark = pytest.mark.timeout(60)  # a hang fails in a minute, not after the global 300 s


async def wait_until(condition: Any, timeout: float = 5.0) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.01)


async def authenticated_connection(address: tuple[str, int], node_id: str = "mallory") -> BufferedByteStream:
    """A connection that has passed the handshake as `node_id`, using the real client side."""
    stream = BufferedByteStream(await anyio.connect_tcp(*address))
    try:
        await client_handshake(stream, secret=SECRET, node_id=node_id, expected_peer="server")
    except BaseException:
        await anyio.aclose_forcefully(stream)
        raise
    return stream


async def closed_by_server(stream: Any) -> bool:
    """Read until the server closes the connection (True), failing the test if it does not within 5 s."""
    with anyio.fail_after(5):
        try:
            while True:
                await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return True


async def good_peer_still_works(server: TcpTransport, alice: TcpTransport, marker: bytes) -> None:
    await alice.send("server", marker)
    with anyio.fail_after(5):
        async for peer, data in server:
            if (peer, data) == ("alice", marker):
                return


@pytest.fixture
async def server_and_alice(tcp_factory) -> Any:
    server = tcp_factory("server", {"alice": None, "mallory": None}, max_frame_size=1024, handshake_timeout=0.5)
    async with server:
        async with tcp_factory("alice", {"server": server.listen_address}) as alice:
            await good_peer_still_works(server, alice, b"warm-up")
            yield server, alice


@pytest.mark.anyio
async def test_junk_instead_of_a_handshake_is_rejected(server_and_alice) -> None:
    server, alice = server_and_alice
    async with await anyio.connect_tcp(*server.listen_address) as raw:
        await raw.send(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n" + bytes(range(256)))
        assert await closed_by_server(raw)
    await wait_until(lambda: server.stats.rejected_connections == 1)
    assert server.stats.rejection_reasons["bad_hmac"] == 1
    await good_peer_still_works(server, alice, b"after junk")


@pytest.mark.anyio
async def test_oversized_length_after_a_valid_handshake_closes_at_once(server_and_alice) -> None:
    server, alice = server_and_alice
    async with await authenticated_connection(server.listen_address) as stream:
        await stream.send(struct.pack(">I", 2**32 - 1) + b"a few bytes of a payload that never ends")
        assert await closed_by_server(stream)  # without waiting for the 4 GiB it announced
    await wait_until(lambda: server.stats.rejection_reasons["frame_too_large"] == 1)
    assert server.stats.rejected_connections == 1
    await good_peer_still_works(server, alice, b"after oversized")


@pytest.mark.anyio
async def test_connection_cut_mid_frame(server_and_alice) -> None:
    server, alice = server_and_alice
    async with await authenticated_connection(server.listen_address) as stream:
        await stream.send(encode_frame(b"complete") + struct.pack(">I", 100) + b"only ten b")
    await wait_until(lambda: server.stats.rejection_reasons["truncated_frame"] == 1)
    with anyio.fail_after(5):
        assert await server.__anext__() == ("mallory", b"complete")
    await good_peer_still_works(server, alice, b"after cut frame")
    assert server.stats.received == 3  # warm-up, complete, marker: nothing from the cut frame


@pytest.mark.anyio
async def test_connection_cut_mid_handshake(server_and_alice) -> None:
    server, alice = server_and_alice
    async with await anyio.connect_tcp(*server.listen_address) as raw:
        greeting = await raw.receive()
        assert greeting[0] == 1
        await raw.send(b"\x07mallory" + bytes(10))  # the id, then 10 of the 64 nonce and MAC bytes
    await wait_until(lambda: server.stats.rejection_reasons["truncated_handshake"] == 1)
    await good_peer_still_works(server, alice, b"after cut handshake")


@pytest.mark.anyio
async def test_silent_connection_times_out(server_and_alice) -> None:
    server, alice = server_and_alice
    async with await anyio.connect_tcp(*server.listen_address) as raw:
        assert await closed_by_server(raw)  # after handshake_timeout=0.5 s
    assert server.stats.rejection_reasons["handshake_timeout"] == 1
    await good_peer_still_works(server, alice, b"after silence")


@pytest.mark.anyio
async def test_unknown_node_id_with_the_right_secret_is_rejected(server_and_alice) -> None:
    server, alice = server_and_alice
    with pytest.raises(HandshakeError, match="closed the connection during the handshake"):
        with anyio.fail_after(5):
            await authenticated_connection(server.listen_address, node_id="stranger")
    await wait_until(lambda: server.stats.rejection_reasons["unknown_peer"] == 1)
    await good_peer_still_works(server, alice, b"after stranger")


@pytest.mark.anyio
async def test_a_newer_connection_from_the_same_peer_replaces_the_older(server_and_alice) -> None:
    server, alice = server_and_alice
    async with await authenticated_connection(server.listen_address) as older:
        async with await authenticated_connection(server.listen_address) as newer:
            assert await closed_by_server(older)
            await newer.send(encode_frame(b"on the newer connection"))
            with anyio.fail_after(5):
                assert await server.__anext__() == ("mallory", b"on the newer connection")
    assert server.stats.rejected_connections == 0


@pytest.mark.anyio
async def test_pending_handshakes_are_bounded(tcp_factory) -> None:
    async with tcp_factory("server", {"alice": None}, max_pending_handshakes=2, handshake_timeout=30) as server:
        silent = [await anyio.connect_tcp(*server.listen_address) for _ in range(2)]
        try:
            with anyio.fail_after(5):
                for stream in silent:
                    assert len(await stream.receive()) == 33  # greeted: each holds a handshake slot
            async with await anyio.connect_tcp(*server.listen_address) as third:
                assert await closed_by_server(third)
            assert server.stats.rejection_reasons["too_many_pending_handshakes"] == 1
        finally:
            for stream in silent:
                await stream.aclose()
        # The slots are free again once those connections end.
        async with tcp_factory("alice", {"server": server.listen_address}) as alice:
            await good_peer_still_works(server, alice, b"slots freed")


# -- property test: a live listener fed arbitrary byte streams ------------------------------------


@pytest.fixture(scope="module")
def live_server(tcp_factory: Any) -> Iterator[tuple[BlockingPortal, TcpTransport, TcpTransport]]:
    """A server and a well-behaved peer running in a portal thread, for sync hypothesis tests."""
    with start_blocking_portal("asyncio") as portal:
        server = tcp_factory("server", {"alice": None, "mallory": None}, max_frame_size=1024, handshake_timeout=2.0)
        with portal.wrap_async_context_manager(server):
            alice = tcp_factory("alice", {"server": server.listen_address})
            with portal.wrap_async_context_manager(alice):
                portal.call(good_peer_still_works, server, alice, b"warm-up")  # alice is connected
                yield portal, server, alice


def send_raw(address: tuple[str, int], data: bytes) -> None:
    """Send `data` on a plain socket, half-close, and wait until the server closes the connection."""
    with socket.create_connection(address, timeout=5) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
        except ConnectionError:  # the server may reset a connection it rejected; a timeout still fails
            pass


async def send_after_handshake(address: tuple[str, int], data: bytes) -> None:
    with anyio.fail_after(5):
        async with await authenticated_connection(address) as stream:
            try:
                await stream.send(data)
                await stream.send_eof()
            except (anyio.BrokenResourceError, OSError):
                pass
            assert await closed_by_server(stream)


_examples = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_frames = st.lists(st.binary(max_size=64), max_size=4).map(lambda payloads: b"".join(map(encode_frame, payloads)))


@_examples
@given(data=st.binary(max_size=2048))
def test_listener_survives_arbitrary_bytes(live_server: Any, data: bytes) -> None:
    portal, server, alice = live_server
    authenticated = server.stats.connections_in
    send_raw(server.listen_address, data)
    assert server.stats.connections_in == authenticated  # junk never passes the handshake
    portal.call(good_peer_still_works, server, alice, b"alive after %d junk bytes" % len(data))


@_examples
@given(data=st.one_of(st.binary(max_size=2048), st.tuples(_frames, st.binary(max_size=512)).map(b"".join)))
def test_listener_survives_arbitrary_bytes_after_a_valid_handshake(live_server: Any, data: bytes) -> None:
    portal, server, alice = live_server
    portal.call(send_after_handshake, server.listen_address, data)
    portal.call(good_peer_still_works, server, alice, b"alive after %d bytes" % len(data))
