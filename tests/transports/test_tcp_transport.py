"""TcpTransport over real loopback sockets: delivery, restarts, authentication, TLS, bounded queues."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import tracemalloc
from typing import Any

import anyio
import pytest
import structlog
import trustme

from lmteams.transports import (
    Backoff,
    FrameTooLarge,
    TcpTransport,
    Transport,
    TransportClosed,
    TransportConfigError,
    TransportError,
    UnknownPeer,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]  # a hang fails in 30 s, not 300

LOOPBACK = ("127.0.0.1", 0)


async def wait_until(condition: Any, timeout: float = 5.0) -> None:
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.01)


async def test_three_nodes_exchange_messages_all_to_all(tcp_cluster, receive) -> None:
    async with tcp_cluster("n1", "n2", "n3") as nodes:
        for sender in nodes.values():
            assert isinstance(sender, Transport)
            for receiver in nodes:
                if receiver != sender.node_id:
                    await sender.send(receiver, f"{sender.node_id}->{receiver}".encode())
        for receiver_id, receiver in nodes.items():
            got = await receive(receiver, 2)
            expected = {(s, f"{s}->{receiver_id}".encode()) for s in nodes if s != receiver_id}
            assert set(got) == expected
        for node in nodes.values():
            assert (node.stats.sent, node.stats.received, node.stats.rejected_connections) == (2, 2, 0)


async def test_messages_sent_before_start_are_delivered_once_connected(tcp_factory, receive) -> None:
    async with tcp_factory("b", {"a": None}) as b:
        a = tcp_factory("a", {"b": b.listen_address})
        await a.send("b", b"early")
        assert a.queued("b") == 1
        async with a:
            assert await receive(b, 1) == [("a", b"early")]


async def test_large_message_up_to_the_frame_limit(tcp_cluster, receive) -> None:
    async with tcp_cluster("a", "b", max_frame_size=1 << 20) as nodes:
        big = bytes(range(256)) * 4096
        await nodes["a"].send("b", big)
        assert await receive(nodes["b"], 1) == [("a", big)]
        with pytest.raises(FrameTooLarge):
            await nodes["a"].send("b", big + b"!")


async def test_restarted_peer_is_reconnected_and_receives_later_messages(tcp_factory, receive) -> None:
    async with tcp_factory("a", {"b": None}) as a:
        async with tcp_factory("b", {"a": a.listen_address}) as b:
            a.set_peer("b", b.listen_address)
            b_address = b.listen_address
            await a.send("b", b"before")
            assert await receive(b, 1) == [("a", b"before")]
        await wait_until(lambda: a.stats.connections_lost == 1)  # noticed without having to write
        await a.send("b", b"while down")
        await wait_until(lambda: a.stats.dial_failures >= 2)  # it keeps redialing a dead address

        async with tcp_factory("b", {"a": a.listen_address}, listen=b_address) as restarted:

            async def keep_sending() -> None:
                for i in range(200):
                    await a.send("b", b"after %d" % i)
                    await anyio.sleep(0.02)

            async with anyio.create_task_group() as tg:
                tg.start_soon(keep_sending)
                with anyio.fail_after(5):
                    async for _, data in restarted:
                        if data.startswith(b"after"):
                            break
                tg.cancel_scope.cancel()
        assert a.stats.connections_out == 2


async def test_changing_a_peers_address_redials_at_once(tcp_factory, receive) -> None:
    with socket.socket() as nothing_listens:
        nothing_listens.bind(("127.0.0.1", 0))
        slow = Backoff(base=30.0, cap=30.0)
        async with tcp_factory("a", {"b": nothing_listens.getsockname()}, backoff=slow) as a:
            await wait_until(lambda: a.stats.dial_failures == 1)  # now sleeping up to 30 s
            async with tcp_factory("b", {"a": None}) as b:
                await a.send("b", b"found you")
                a.set_peer("b", b.listen_address)
                assert await receive(b, 1, 2.0) == [("a", b"found you")]


async def test_wrong_secret_is_refused_and_good_peer_keeps_working(tcp_factory, receive) -> None:
    with structlog.testing.capture_logs() as logs:
        async with tcp_factory("server", {"alice": None, "mallory": None}) as server:
            async with (
                tcp_factory("alice", {"server": server.listen_address}) as alice,
                tcp_factory("mallory", {"server": server.listen_address}, secret=b"a guessed secret") as mallory,
            ):
                await mallory.send("server", b"evil")
                await wait_until(lambda: server.stats.rejection_reasons["bad_hmac"] >= 2)
                await alice.send("server", b"good")
                assert await receive(server, 1) == [("alice", b"good")]
                assert server.stats.connections_in == 1
                assert mallory.stats.sent == 0 and mallory.stats.dial_failures >= 2
                assert server.stats.rejected_connections >= 2
                # Snapshot before mallory shuts down: closing mid-redial can add other reasons.
                rejections = [entry for entry in logs if entry["event"] == "tcp.connection_rejected"]
            assert server.stats.received == 1
    assert len(rejections) >= 2
    assert {entry["reason"] for entry in rejections} == {"bad_hmac"}
    assert all(entry["log_level"] == "warning" and entry["node"] == "server" for entry in rejections)


@pytest.fixture(scope="module")
def tls() -> dict[str, Any]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    untrusting = ssl.create_default_context()
    trustme.CA().configure_trust(untrusting)
    return {"ssl_context": client, "server_ssl_context": server, "untrusting": untrusting}


async def test_tls_round_trip(tcp_cluster, receive, tls) -> None:
    contexts = {"ssl_context": tls["ssl_context"], "server_ssl_context": tls["server_ssl_context"]}
    async with tcp_cluster("a", "b", **contexts) as nodes:
        await nodes["a"].send("b", b"over tls")
        await nodes["b"].send("a", b"and back")
        assert await receive(nodes["b"], 1) == [("a", b"over tls")]
        assert await receive(nodes["a"], 1) == [("b", b"and back")]

        # The listener really speaks TLS: a plaintext handshake attempt is a TLS error.
        async with await anyio.connect_tcp(*nodes["b"].listen_address) as raw:
            await raw.send(b"\x05alice" + bytes(64))
            with anyio.fail_after(5), pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                await raw.receive()
        await wait_until(lambda: nodes["b"].stats.rejection_reasons["tls_error"] == 1)


async def test_tls_with_an_untrusted_certificate_delivers_nothing(tcp_factory, tls) -> None:
    b = tcp_factory("b", {"a": None}, ssl_context=tls["ssl_context"], server_ssl_context=tls["server_ssl_context"])
    async with b:
        a = tcp_factory(
            "a", {"b": b.listen_address}, ssl_context=tls["untrusting"], server_ssl_context=tls["server_ssl_context"]
        )
        async with a:
            await a.send("b", b"unverified")
            await wait_until(lambda: a.stats.dial_failures >= 2)
        await wait_until(lambda: b.stats.rejection_reasons["tls_error"] >= 1)
        assert a.stats.connections_out == 0 and b.stats.connections_in == 0


async def test_send_queue_is_bounded_when_the_peer_never_accepts(tcp_factory) -> None:
    with socket.socket() as nothing_listens:  # bound but not listening: every connect is refused
        nothing_listens.bind(("127.0.0.1", 0))
        async with tcp_factory("a", {"ghost": nothing_listens.getsockname()}, queue_size=32) as a:
            for i in range(32):
                await a.send("ghost", bytes([i]) * 4096)
            tracemalloc.start()
            try:
                before, _ = tracemalloc.get_traced_memory()
                with anyio.fail_after(5):
                    for i in range(2000):  # 8 MB more than the queue can hold
                        await a.send("ghost", bytes([i % 256]) * 4096)
                after, _ = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert after - before < 1_000_000
            assert a.queued("ghost") == 32
            assert (a.stats.enqueued, a.stats.dropped_queue_full, a.stats.sent) == (32, 2000, 0)
            await wait_until(lambda: a.stats.dial_failures >= 3)
            assert a.queued("ghost") == 32  # failed dials never drain the queue


async def test_send_errors(tcp_factory) -> None:
    transport = tcp_factory("a", {"b": None}, max_frame_size=8)
    with pytest.raises(UnknownPeer, match="'c'"):
        await transport.send("c", b"x")
    with pytest.raises(FrameTooLarge):
        await transport.send("b", b"123456789")
    with pytest.raises(TypeError):
        await transport.send("b", "not bytes")  # type: ignore[arg-type]
    await transport.close()
    await transport.close()
    with pytest.raises(TransportClosed):
        await transport.send("b", b"x")
    with pytest.raises(TransportClosed):
        async with transport:
            pass


async def test_close_ends_iteration_and_code_after_it_runs(tcp_factory) -> None:
    finished = anyio.Event()
    reached = False
    async with tcp_factory("a") as a:

        async def consume() -> None:
            async for _ in a:
                pass
            finished.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await anyio.sleep(0.01)
            await a.close()
            with anyio.fail_after(2):
                await finished.wait()
        await anyio.sleep(0)
        reached = True
    assert reached


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts file descriptors through /proc")
async def test_no_tasks_or_sockets_outlive_the_async_with(tcp_cluster, receive) -> None:
    fds_before = len(os.listdir("/proc/self/fd"))
    tasks_before = len(asyncio.all_tasks())
    async with tcp_cluster("a", "b", "c") as nodes:
        for peer in ("b", "c"):
            await nodes["a"].send(peer, b"x")
        await receive(nodes["b"], 1)
        await receive(nodes["c"], 1)
        async with await anyio.connect_tcp(*nodes["a"].listen_address) as junk:
            await junk.send(b"junk" * 40)
        assert len(asyncio.all_tasks()) > tasks_before
    assert len(asyncio.all_tasks()) == tasks_before
    assert len(os.listdir("/proc/self/fd")) == fds_before


async def test_close_releases_the_port(tcp_factory) -> None:
    async with tcp_factory("a") as a:
        address = a.listen_address
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)  # would raise EADDRINUSE if the listener leaked


async def test_listen_address_before_start_is_an_error(tcp_factory) -> None:
    transport = tcp_factory("a")
    with pytest.raises(TransportError, match="async with"):
        _ = transport.listen_address
    await transport.close()


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (("a", LOOPBACK, {}), {"secret": b""}, "secret"),
        (("a", LOOPBACK, {"a": None}), {"secret": b"s"}, "own id"),
        (("a", ("127.0.0.1", 70000), {}), {"secret": b"s"}, "port"),
        (("", LOOPBACK, {}), {"secret": b"s"}, "non-empty"),
        (("a", LOOPBACK, {}), {"secret": b"s", "ssl_context": ssl.create_default_context()}, "both"),
        (("a", LOOPBACK, {}), {"secret": b"s", "queue_size": 0}, "queue_size"),
    ],
)
def test_invalid_configuration_is_rejected(args: tuple[Any, ...], kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(TransportConfigError, match=match):
        TcpTransport(*args, **kwargs)


async def test_a_peer_that_connects_in_is_redialed_at_once_not_after_the_backoff(tcp_factory, receive) -> None:
    """b restarts while a backs off for 30 s; b's own connection to a wakes a's dialer."""
    slow = Backoff(base=30.0, cap=30.0)
    async with tcp_factory("a", {"b": None}, backoff=slow) as a:
        async with tcp_factory("b", {"a": a.listen_address}) as b:
            a.set_peer("b", b.listen_address)
            b_address = b.listen_address
            await a.send("b", b"before")
            assert await receive(b, 1) == [("a", b"before")]
        await wait_until(lambda: a.stats.dial_failures >= 1)  # a now sleeps up to 30 s
        async with tcp_factory("b", {"a": a.listen_address}, listen=b_address) as restarted:
            await restarted.send("a", b"I am back")  # b dials a
            assert await receive(a, 1) == [("b", b"I am back")]
            await a.send("b", b"welcome back")
            assert await receive(restarted, 1, 2.0) == [("a", b"welcome back")]
