"""Fixtures shared by the transport tests: loopback TCP clusters and receive helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import pytest

from lmteams.transports import Backoff, TcpTransport, Transport

SECRET = b"lmteams-test-secret-0123456789ab"
LOOPBACK = ("127.0.0.1", 0)
FAST_BACKOFF = Backoff(base=0.01, cap=0.1)

Cluster = Callable[..., AbstractAsyncContextManager[dict[str, TcpTransport]]]


@pytest.fixture
def secret() -> bytes:
    return SECRET


def make_tcp(node_id: str, peers: dict[str, Any] | None = None, **kwargs: Any) -> TcpTransport:
    """A transport on 127.0.0.1 with a free port, the test secret and a fast backoff."""
    options: dict[str, Any] = {"secret": SECRET, "backoff": FAST_BACKOFF, "seed": 0}
    options.update(kwargs)
    return TcpTransport(node_id, options.pop("listen", LOOPBACK), peers or {}, **options)


@asynccontextmanager
async def _cluster(*node_ids: str, **kwargs: Any) -> AsyncIterator[dict[str, TcpTransport]]:
    async with AsyncExitStack() as stack:
        nodes: dict[str, TcpTransport] = {}
        for node_id in node_ids:
            peers = {peer: None for peer in node_ids if peer != node_id}
            nodes[node_id] = await stack.enter_async_context(make_tcp(node_id, peers, **kwargs))
        for node in nodes.values():
            for peer_id, peer in nodes.items():
                if peer_id != node.node_id:
                    node.set_peer(peer_id, peer.listen_address)
        yield nodes


@pytest.fixture
def tcp_cluster() -> Cluster:
    """``async with tcp_cluster("a", "b") as nodes``: started transports wired all-to-all."""
    return _cluster


async def _receive(transport: Transport, count: int, timeout: float = 5.0) -> list[tuple[str, bytes]]:
    received: list[tuple[str, bytes]] = []
    if count == 0:
        return received
    with anyio.fail_after(timeout):
        async for item in transport:
            received.append(item)
            if len(received) == count:
                break
    return received


@pytest.fixture
def receive() -> Callable[..., Awaitable[list[tuple[str, bytes]]]]:
    """``await receive(transport, n)``: the next n messages, failing after 5 s."""
    return _receive


@pytest.fixture(scope="session")
def tcp_factory() -> Callable[..., TcpTransport]:
    """``tcp_factory("a", {"b": None}, queue_size=8)``: an unstarted transport on a free loopback port."""
    return make_tcp
