"""An in-process network with seeded fault injection, for tests and in-process teams.

::

    network = MemoryNetwork(seed=7, drop=0.1, duplicate=0.05, delay=(0.0, 0.02))
    async with network.endpoint("a") as a, network.endpoint("b") as b:
        await a.send("b", b"hello")
        async for peer, data in b:
            ...

Faults
    Every fault decision (drop, duplicate, delay) is drawn from one
    ``random.Random(seed)`` owned by the network, in the order of the `send`
    calls, so the same sequence of sends (and partition changes) under the
    same seed makes the same decisions. Real-time effects (how delayed
    messages interleave with new sends) are not part of that guarantee.

Delivery
    With ``delay=(0, 0)`` a message is put straight into the receiver's bounded
    buffer (``buffer`` messages); if that buffer is full the message is dropped
    and counted, never waited for. With a delay, each copy sleeps for a time
    drawn uniformly from ``delay`` in a task of the *sending* endpoint's task
    group, which only exists inside ``async with endpoint``. Random delays
    also reorder messages.

Partitions
    ``partition({"a", "b"}, {"c"})`` splits the nodes into groups; messages
    between different groups are dropped. Nodes not named in any group form
    one more group together, so ``partition({"a"})`` cuts ``a`` off from
    everybody else while the others still talk to each other. ``isolate("a")``
    moves ``a`` into a group of its own and leaves the rest of the current
    partition alone; ``heal()`` removes every partition. A node can always
    send to itself. Links are checked when a message is sent, and again when
    a delayed message arrives.

Crashes and restarts
    Closing an endpoint takes the node down: its iteration ends, its delayed
    messages in flight are lost, and messages sent to it are dropped silently.
    ``network.endpoint(node_id)`` again makes a fresh endpoint (a restart).
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import anyio
import structlog
from anyio.abc import TaskGroup
from anyio.lowlevel import checkpoint_if_cancelled
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from lmteams.transports.base import (
    NodeIdInUse,
    TransportClosed,
    TransportConfigError,
    TransportError,
    UnknownPeer,
    as_payload,
)
from lmteams.transports.inbox import InboxIteration
from lmteams.transports.lifetime import AsyncLifetime, stoppable_task_group
from lmteams.transports.stats import MemoryStats

__all__ = ["MemoryEndpoint", "MemoryNetwork"]

log = structlog.get_logger(__name__)

_REST = object()
"""The partition group of every node not named in `partition()`."""


def _probability(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise TransportConfigError(f"{name} must be a probability between 0 and 1, got {value!r}")
    return float(value)


class MemoryNetwork:
    """A seeded in-memory network of `MemoryEndpoint`s (see the module docstring).

    Args:
        seed: seed of the `random.Random` every fault decision comes from.
        drop: probability that a message is dropped.
        duplicate: probability that a message is delivered twice.
        delay: ``(low, high)`` seconds; each delivered copy waits a time drawn
            uniformly from this range. ``(0, 0)`` delivers immediately.
        buffer: how many undelivered messages each endpoint holds before new
            ones are dropped.
    """

    def __init__(
        self,
        seed: int = 0,
        drop: float = 0.0,
        duplicate: float = 0.0,
        delay: tuple[float, float] = (0.0, 0.0),
        buffer: int = 1024,
    ) -> None:
        self.drop = _probability("drop", drop)
        self.duplicate = _probability("duplicate", duplicate)
        low, high = delay
        if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high):
            raise TransportConfigError(f"delay must be (low, high) seconds with 0 <= low <= high, got {delay!r}")
        self.delay = (float(low), float(high))
        if buffer < 1:
            raise TransportConfigError(f"buffer must hold at least 1 message, got {buffer}")
        self.buffer = buffer
        self._rng = random.Random(seed)
        self._known: set[str] = set()
        self._open: dict[str, MemoryEndpoint] = {}
        self._groups: dict[str, object] = {}

    @property
    def nodes(self) -> frozenset[str]:
        """Every node id that has had an endpoint on this network (up or down)."""
        return frozenset(self._known)

    def endpoint(self, node_id: str) -> MemoryEndpoint:
        """Create the endpoint of `node_id`; after the previous one is closed this is a restart."""
        if not isinstance(node_id, str) or not node_id:
            raise TransportConfigError(f"node ids must be non-empty strings, got {node_id!r}")
        if node_id in self._open:
            raise NodeIdInUse(f"node {node_id!r} already has an open endpoint; close it before creating a new one")
        send, receive = anyio.create_memory_object_stream[tuple[str, bytes]](self.buffer)
        endpoint = MemoryEndpoint(self, node_id, send, receive)
        self._known.add(node_id)
        self._open[node_id] = endpoint
        return endpoint

    def partition(self, *groups: Iterable[str]) -> None:
        """Replace the current partition with `groups` (nodes not named form one more group)."""
        if any(isinstance(group, str) for group in groups):
            raise TransportConfigError(
                f"partition() takes collections of node ids, e.g. partition({{'a'}}, {{'b', 'c'}}); got {groups!r}"
            )
        materialized = [sorted(set(group)) for group in groups]
        assignment: dict[str, object] = {}
        for group in materialized:
            label = object()
            for node in group:
                if node in assignment:
                    raise TransportConfigError(f"node {node!r} appears in more than one partition group")
                assignment[node] = label
        self._groups = assignment
        log.info("memory.partition", groups=materialized)

    def isolate(self, node_id: str) -> None:
        """Cut `node_id` off from every other node, keeping the rest of the current partition."""
        self._groups[node_id] = object()
        log.info("memory.isolate", node=node_id)

    def heal(self) -> None:
        """Remove every partition."""
        self._groups = {}
        log.info("memory.heal")

    def connected(self, a: str, b: str) -> bool:
        """Whether a message from `a` to `b` would cross no partition."""
        return a == b or self._groups.get(a, _REST) is self._groups.get(b, _REST)

    def _route(self, sender: MemoryEndpoint, peer: str, data: bytes) -> None:
        """Apply partitions and faults to one `send` and deliver or schedule each copy."""
        if peer not in self._known:
            raise UnknownPeer(
                f"{sender.node_id!r} sent to unknown node {peer!r}; known nodes are {sorted(self._known)}. "
                f"Create its endpoint with network.endpoint({peer!r}) before sending to it"
            )
        if self.delay[1] > 0 and not sender._running:
            raise TransportError(
                f"this network delays messages, which runs tasks in the sender's task group: "
                f"use `async with network.endpoint({sender.node_id!r}) as ...`"
            )
        stats = sender.stats
        stats.sent += 1
        if not self.connected(sender.node_id, peer):
            stats.dropped_partition += 1
            log.debug("memory.dropped", reason="partition", sender=sender.node_id, peer=peer)
            return
        if self.drop and self._rng.random() < self.drop:
            stats.dropped_fault += 1
            log.debug("memory.dropped", reason="fault", sender=sender.node_id, peer=peer)
            return
        copies = 1
        if self.duplicate and self._rng.random() < self.duplicate:
            copies = 2
            stats.duplicated += 1
        low, high = self.delay
        for _ in range(copies):
            delay = self._rng.uniform(low, high) if high > 0 else 0.0
            if delay > 0:
                stats.delayed += 1
                sender._schedule(delay, peer, data)
            else:
                self._deliver(sender, peer, data)

    def _deliver(self, sender: MemoryEndpoint, peer: str, data: bytes) -> None:
        stats = sender.stats
        if not self.connected(sender.node_id, peer):
            stats.dropped_partition += 1
            log.debug("memory.dropped", reason="partition", sender=sender.node_id, peer=peer)
            return
        target = self._open.get(peer)
        if target is None:
            stats.dropped_peer_down += 1
            log.debug("memory.dropped", reason="peer_down", sender=sender.node_id, peer=peer)
            return
        try:
            target._inbox_send.send_nowait((sender.node_id, data))
        except anyio.WouldBlock:
            stats.dropped_queue_full += 1
            log.debug("memory.dropped", reason="queue_full", sender=sender.node_id, peer=peer)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            stats.dropped_peer_down += 1
            log.debug("memory.dropped", reason="peer_down", sender=sender.node_id, peer=peer)

    def _unregister(self, endpoint: MemoryEndpoint) -> None:
        if self._open.get(endpoint.node_id) is endpoint:
            del self._open[endpoint.node_id]


class MemoryEndpoint(InboxIteration, AsyncLifetime):
    """One node's `Transport` on a `MemoryNetwork`; create it with `MemoryNetwork.endpoint`.

    Works directly (``send``, ``async for``, ``close``) or as an async context
    manager; a network with a delay needs the context manager, whose task group
    runs the delayed deliveries.
    """

    def __init__(
        self,
        network: MemoryNetwork,
        node_id: str,
        inbox_send: MemoryObjectSendStream[tuple[str, bytes]],
        inbox_receive: MemoryObjectReceiveStream[tuple[str, bytes]],
    ) -> None:
        self.node_id = node_id
        self.stats: MemoryStats = MemoryStats()
        self._network = network
        self._inbox_send = inbox_send
        self._inbox_receive = inbox_receive
        self._tasks: TaskGroup | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def _running(self) -> bool:
        return self._tasks is not None and not self._closed

    def pending(self) -> int:
        """How many received messages wait in this endpoint's buffer."""
        return self._inbox_receive.statistics().current_buffer_used

    async def send(self, peer: str, data: bytes) -> None:
        """Hand `data` to the network for `peer`; never blocks (see `Transport.send`)."""
        # A cancellation point without a trip through the event loop: a send never waits,
        # and a yield per message was a large share of a commit's cost.
        await checkpoint_if_cancelled()
        if self._closed:
            raise TransportClosed(f"endpoint {self.node_id!r} is closed; create a new one with network.endpoint()")
        self._network._route(self, peer, as_payload(data))

    async def close(self) -> None:
        """Take this node down: end iteration, drop buffered and in-flight messages. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._network._unregister(self)
        self._inbox_send.close()
        self._inbox_receive.close()
        if self._tasks is not None:
            self._tasks.cancel_scope.cancel()
        log.debug("memory.endpoint_closed", node=self.node_id)

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        if self._closed:
            raise TransportClosed(f"endpoint {self.node_id!r} is closed; create a new one with network.endpoint()")
        async with stoppable_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                await self.close()

    def _schedule(self, delay: float, peer: str, data: bytes) -> None:
        assert self._tasks is not None
        self._tasks.start_soon(self._deliver_later, delay, peer, data)

    async def _deliver_later(self, delay: float, peer: str, data: bytes) -> None:
        await anyio.sleep(delay)
        self._network._deliver(self, peer, data)
