"""The HMAC handshake on its own, over real loopback sockets."""

from __future__ import annotations

import secrets

import anyio
import pytest
from anyio.abc import SocketListener
from anyio.streams.buffered import BufferedByteStream

from lmteams.transports import HandshakeError, TransportConfigError
from lmteams.transports.handshake import MAX_NODE_ID_BYTES, client_handshake, encode_node_id, server_handshake

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]  # a hang fails in 30 s, not 300

SECRET = b"handshake-secret-0123456789abcdef"


async def handshake(
    *,
    server_secret: bytes = SECRET,
    client_secret: bytes = SECRET,
    client_id: str = "alice",
    expected_peer: str = "server",
    known_peers: frozenset[str] = frozenset({"alice"}),
) -> tuple[str | HandshakeError, None | HandshakeError]:
    """Run both sides over a loopback connection; return (server result, client result)."""
    results: dict[str, object] = {}
    with anyio.fail_after(5):
        multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        listener = multi.listeners[0]
        assert isinstance(listener, SocketListener)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)

        async def serve() -> None:
            async with BufferedByteStream(await listener.accept()) as stream:
                try:
                    results["server"] = await server_handshake(
                        stream, secret=server_secret, node_id="server", known_peers=known_peers
                    )
                except HandshakeError as exc:
                    results["server"] = exc

        async with multi, anyio.create_task_group() as tg:
            tg.start_soon(serve)
            async with BufferedByteStream(await anyio.connect_tcp("127.0.0.1", port)) as stream:
                try:
                    await client_handshake(stream, secret=client_secret, node_id=client_id, expected_peer=expected_peer)
                    results["client"] = None
                except HandshakeError as exc:
                    results["client"] = exc
    return results["server"], results["client"]  # type: ignore[return-value]


async def test_matching_secrets_authenticate_both_sides() -> None:
    server, client = await handshake()
    assert server == "alice"
    assert client is None


async def test_wrong_secret_is_refused_by_the_server() -> None:
    server, client = await handshake(client_secret=b"not-the-secret")
    assert isinstance(server, HandshakeError) and server.reason == "bad_hmac"
    assert isinstance(client, HandshakeError) and client.reason == "refused"


async def test_unknown_client_id_is_refused_even_with_the_secret() -> None:
    server, client = await handshake(client_id="stranger")
    assert isinstance(server, HandshakeError) and server.reason == "unknown_peer"
    assert isinstance(client, HandshakeError)


async def test_client_detects_that_it_reached_the_wrong_node() -> None:
    server, client = await handshake(expected_peer="someone-else")
    assert server == "alice"
    assert isinstance(client, HandshakeError) and client.reason == "bad_server_hmac"


async def test_client_rejects_an_unknown_protocol_version() -> None:
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    listener = multi.listeners[0]
    assert isinstance(listener, SocketListener)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def fake_server() -> None:
        async with await listener.accept() as stream:
            await stream.send(b"\x63" + secrets.token_bytes(32))
            await anyio.sleep(5)

    with anyio.fail_after(5):
        async with multi, anyio.create_task_group() as tg:
            tg.start_soon(fake_server)
            async with BufferedByteStream(await anyio.connect_tcp("127.0.0.1", port)) as stream:
                with pytest.raises(HandshakeError) as raised:
                    await client_handshake(stream, secret=SECRET, node_id="alice", expected_peer="server")
            tg.cancel_scope.cancel()
    assert raised.value.reason == "bad_version"


@pytest.mark.parametrize("node_id", ["", "x" * (MAX_NODE_ID_BYTES + 1), "é" * 128])
def test_node_ids_that_do_not_fit_the_wire_are_rejected(node_id: str) -> None:
    with pytest.raises(TransportConfigError):
        encode_node_id(node_id)


def test_longest_node_id_fits() -> None:
    assert len(encode_node_id("x" * MAX_NODE_ID_BYTES)) == MAX_NODE_ID_BYTES
