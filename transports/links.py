"""Partitions for any transport: a shared link table and a filtering wrapper.

``MemoryNetwork`` partitions natively. For real sockets, wrap each node's
transport in ``FilteredTransport`` over one shared ``LinkTable``: a message
across a cut link is dropped on send and again on receipt, so a partition
behaves the same whichever side's traffic is in flight.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from lmteams.transports.base import Transport
from lmteams.transports.lifetime import AsyncLifetime


class LinkTable:
    """Which nodes can currently reach which. Nodes named in no group of a
    partition share one extra group, as in ``MemoryNetwork``."""

    def __init__(self) -> None:
        self._groups: list[frozenset[str]] | None = None

    def partition(self, *groups: Iterable[str]) -> None:
        self._groups = [frozenset(g) for g in groups]

    def isolate(self, node: str) -> None:
        self._groups = [frozenset({node})]

    def heal(self) -> None:
        self._groups = None

    def connected(self, a: str, b: str) -> bool:
        if self._groups is None or a == b:
            return True
        ga = next((g for g in self._groups if a in g), None)
        gb = next((g for g in self._groups if b in g), None)
        return ga is gb


class FilteredTransport(AsyncLifetime):
    """A ``Transport`` that drops traffic across links ``links`` has cut."""

    def __init__(self, inner: Transport, links: LinkTable) -> None:
        self.inner = inner
        self.links = links
        self.node_id = inner.node_id
        self.dropped = 0

    async def send(self, peer: str, data: bytes) -> None:
        if not self.links.connected(self.node_id, peer):
            self.dropped += 1
            return
        await self.inner.send(peer, data)

    def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]:
        return self._received()

    async def _received(self) -> AsyncIterator[tuple[str, bytes]]:
        async for peer, data in self.inner:
            if self.links.connected(peer, self.node_id):
                yield peer, data
            else:
                self.dropped += 1

    async def close(self) -> None:
        await self.inner.close()

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        async with self.inner:
            yield
