"""LocalCluster: an in-process Raft cluster on a MemoryNetwork or on TCP over loopback.

Each node runs in its own cancel scope inside the cluster's task group, so
``crash(id)`` stops it abruptly (in-flight work is lost, saved storage is
kept) and ``restart(id)`` brings it back from that storage.

Membership: ``add_node()`` starts a fresh node with empty storage, makes it
reachable (a memory endpoint, or its TCP address published to every node
with ``set_peer``), adds it as a learner, waits for it to catch up (by log or
by snapshot) and promotes it; ``remove_node(id)`` removes a voter or learner
(the leader included) and stops it. Every node, old or new, is started with
the same bootstrap configuration (the first ``size`` ids): the rest comes
from the log.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import anyio
import structlog
from anyio.abc import TaskGroup, TaskStatus

from lmteams.consensus.core.config import RaftConfig
from lmteams.consensus.core.membership import Membership
from lmteams.consensus.core.storage import MemoryStorage, Storage
from lmteams.consensus.errors import (
    ConfChangeInProgress,
    ConfChangeTooEarly,
    InvalidConfChange,
    NotLeader,
    ProposalDropped,
)
from lmteams.consensus.node.raft_node import NodeStopped, RaftNode
from lmteams.consensus.node.state_machine import ReplicatedStateMachine
from lmteams.transports import AsyncLifetime, FilteredTransport, LinkTable, MemoryNetwork, TcpTransport, Transport

if TYPE_CHECKING:
    from lmteams.consensus.client.session import NodeClient, SessionCodec
    from lmteams.consensus.client.world import Client

log = structlog.get_logger(__name__)

LOOPBACK = "127.0.0.1"


class ClusterError(Exception):
    """The cluster could not do what was asked (no leader in time, unknown node...)."""


@dataclass(slots=True)
class _Running:
    node: RaftNode
    scope: anyio.CancelScope
    stopped: anyio.Event


class LocalCluster(AsyncLifetime):
    """``size`` Raft nodes in this process.

    ``transport="memory"`` runs them on ``network`` (a seeded
    ``MemoryNetwork``, made for you if None); ``transport="tcp"`` runs real
    ``TcpTransport``s on 127.0.0.1 with an HMAC secret. Storage is
    ``MemoryStorage`` per node and survives ``crash``/``restart``.
    """

    def __init__(
        self,
        size: int = 3,
        *,
        seed: int = 0,
        network: MemoryNetwork | None = None,
        transport: Literal["memory", "tcp"] = "memory",
        state_machine: Callable[[], ReplicatedStateMachine] | None = None,
        config: RaftConfig | None = None,
        tick_interval: float = 0.005,
        secret: bytes = b"lmteams-local-cluster",
        storage: Callable[[str], Storage] | None = None,
    ) -> None:
        if transport not in ("memory", "tcp"):
            raise ValueError(f"transport must be 'memory' or 'tcp', got {transport!r}")
        if size < 1:
            raise ValueError(f"a cluster needs at least one node, got size={size}")
        self.ids = [f"n{i}" for i in range(1, size + 1)]
        self.seed = seed
        self.rng = random.Random(seed)
        self.transport_kind = transport
        self.network = network if network is not None else MemoryNetwork(seed=seed)
        self.links = LinkTable()
        self.config = config or RaftConfig()
        self.tick_interval = tick_interval
        self.secret = secret
        if state_machine is None:
            from lmteams.consensus.world import WorldState

            state_machine = WorldState
        self._state_machine = state_machine
        self._bootstrap = list(self.ids)
        self._make_storage: Callable[[str], Storage] = storage or (lambda _id: MemoryStorage())
        self.storages: dict[str, Storage] = {n: self._make_storage(n) for n in self.ids}
        self.machines: dict[str, ReplicatedStateMachine] = {}
        self._ports: dict[str, int] = {}
        self._running: dict[str, _Running] = {}
        self._tg: TaskGroup | None = None
        self._clients = 0
        # Memory endpoints for every id exist before any node starts, so that
        # each id is a known peer from the first message on.
        self._fresh_endpoints: dict[str, Transport] = (
            {n: self.network.endpoint(n) for n in self.ids} if transport == "memory" else {}
        )

    # -- lifecycle ------------------------------------------------------------

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            try:
                for n in self.ids:
                    await self._start(n)
                yield
            finally:
                tg.cancel_scope.cancel()
                self._tg = None

    # -- nodes -------------------------------------------------------------------

    @property
    def nodes(self) -> dict[str, RaftNode]:
        """The nodes that are running now."""
        return {n: r.node for n, r in self._running.items()}

    def node(self, node_id: str) -> RaftNode:
        if node_id not in self._running:
            raise ClusterError(f"node {node_id!r} is not running (nodes: {self.ids}, running: {sorted(self._running)})")
        return self._running[node_id].node

    async def crash(self, node_id: str) -> None:
        """Stop ``node_id`` abruptly; what it saved survives."""
        running = self._running.pop(node_id, None)
        if running is None:
            raise ClusterError(f"node {node_id!r} is not running")
        running.scope.cancel()
        await running.stopped.wait()
        log.info("cluster.crash", node=node_id)

    async def restart(self, node_id: str) -> None:
        """Start ``node_id`` again from its storage, with a fresh state machine."""
        if node_id in self._running:
            raise ClusterError(f"node {node_id!r} is running; crash it first")
        await self._start(node_id)
        log.info("cluster.restart", node=node_id)

    # -- membership -----------------------------------------------------------------

    async def add_node(self, node_id: str | None = None, timeout: float = 10.0) -> str:
        """Start a new node with empty storage and add it as a voter: as a
        learner first, promoted once it has caught up. Returns its id."""
        if node_id is None:
            k = len(self.ids) + 1
            while f"n{k}" in self.storages:
                k += 1
            node_id = f"n{k}"
        if node_id in self.storages:
            raise ClusterError(f"node id {node_id!r} was used in this cluster already; pick a new one")
        self.storages[node_id] = self._make_storage(node_id)
        self.ids.append(node_id)
        if self.transport_kind == "memory":
            self._fresh_endpoints[node_id] = self.network.endpoint(node_id)
        await self._start(node_id)  # reachable (and its TCP port published) before it is added
        log.info("cluster.add_node", node=node_id)
        await self._change(
            lambda node: node.add_voter(node_id, timeout=timeout),
            lambda conf: node_id in conf.voters,
            f"add {node_id!r} as a voter",
            timeout,
        )
        return node_id

    async def remove_node(self, node_id: str, timeout: float = 10.0) -> None:
        """Remove ``node_id`` from the configuration (once committed), then stop it."""
        if node_id not in self.ids:
            raise ClusterError(f"node {node_id!r} is not in this cluster (nodes: {self.ids})")
        await self._change(
            lambda node: node.remove(node_id),
            lambda conf: node_id not in conf.members,
            f"remove {node_id!r}",
            timeout,
        )
        if node_id in self._running:
            await self.crash(node_id)
        self.ids.remove(node_id)
        log.info("cluster.remove_node", node=node_id)

    def membership(self, node_id: str | None = None) -> Membership:
        """``node_id``'s configuration, or the current leader's."""
        if node_id is None:
            node_id = self.leader()
            if node_id is None:
                raise ClusterError(f"no leader to ask for the configuration: {self.status()}")
        return self.node(node_id).membership

    async def _change(
        self, op: Callable[[RaftNode], Any], done: Callable[[Membership], bool], what: str, timeout: float
    ) -> None:
        """Run ``op`` on the leader until ``done`` holds for a committed
        configuration, following leader changes and retrying refusals that pass."""
        last_error: BaseException | None = None
        with anyio.move_on_after(timeout):
            while True:
                lead = await self.wait_for_leader(timeout=timeout)
                node = self.node(lead)
                if done(node.membership) and not node.conf_change_pending:
                    return
                try:
                    await op(node)
                    return
                except (NotLeader, ProposalDropped, NodeStopped, ConfChangeTooEarly, ConfChangeInProgress) as exc:
                    last_error = exc  # a new leader, or an earlier change to wait for: retry
                except InvalidConfChange as exc:
                    if not done(node.membership):
                        raise
                    last_error = exc  # a retry of a change that took effect: wait for its commit
                await anyio.sleep(self.tick_interval * 2)
        raise ClusterError(f"could not {what} within {timeout}s (last error: {last_error!r}): {self.status()}")

    def partition(self, *groups: list[str]) -> None:
        if self.transport_kind == "memory":
            self.network.partition(*[set(g) for g in groups])
        else:
            self.links.partition(*groups)

    def isolate(self, node_id: str) -> None:
        self.partition([node_id])

    def heal(self) -> None:
        self.network.heal()
        self.links.heal()

    def leader(self) -> str | None:
        """The running node that leads in the highest term, if any."""
        return self._leader_among(None)

    async def wait_for_leader(self, timeout: float = 5.0, among: list[str] | None = None) -> str:
        """Wait until a running node (in ``among``, if given) leads; return its id."""
        with anyio.move_on_after(timeout):
            while True:
                lead = self._leader_among(among)
                if lead is not None:
                    return lead
                await anyio.sleep(self.tick_interval)
        raise ClusterError(f"no leader among {among or self.ids} within {timeout}s: {self.status()}")

    def _leader_among(self, among: list[str] | None) -> str | None:
        best: tuple[int, str] | None = None
        for n, r in self._running.items():
            if among is not None and n not in among:
                continue
            if r.node.is_leader and (best is None or r.node.term > best[0]):
                best = (r.node.term, n)
        return best[1] if best else None

    def status(self) -> dict[str, Any]:
        return {n: (self._running[n].node.status() if n in self._running else "down") for n in self.ids}

    @overload
    def client(self, client_id: str | None = None, *, codec: None = None, **kwargs: Any) -> Client: ...

    @overload
    def client(self, client_id: str | None = None, *, codec: SessionCodec, **kwargs: Any) -> NodeClient[Any]: ...

    def client(
        self, client_id: str | None = None, *, codec: SessionCodec | None = None, **kwargs: Any
    ) -> Client | NodeClient[Any]:
        """A client that finds the leader and retries with sessions: the world state's ``Client``,
        or, given ``codec`` (e.g. ``JsonSessions()``), a ``NodeClient`` of your own state machine."""
        from lmteams.consensus.client.session import NodeClient
        from lmteams.consensus.client.world import Client

        self._clients += 1
        cid = client_id or f"client-{self.seed}-{self._clients}-{self.rng.getrandbits(32):08x}"
        if codec is None:
            return Client(self, cid, seed=self.rng.getrandbits(32), **kwargs)
        return NodeClient(self, cid, codec=codec, seed=self.rng.getrandbits(32), **kwargs)

    # -- internals -----------------------------------------------------------------

    async def _start(self, node_id: str) -> None:
        if self._tg is None:
            raise ClusterError("the cluster is not running: start nodes inside `async with LocalCluster(...)`")
        await self._tg.start(self._run_node, node_id)

    def _make_transport(self, node_id: str) -> Transport:
        if self.transport_kind == "memory":
            fresh = self._fresh_endpoints.pop(node_id, None)
            return fresh if fresh is not None else self.network.endpoint(node_id)
        peers = {p: ((LOOPBACK, self._ports[p]) if p in self._ports else None) for p in self.ids if p != node_id}
        tcp = TcpTransport(
            node_id,
            (LOOPBACK, self._ports.get(node_id, 0)),
            peers,
            secret=self.secret,
            seed=self.rng.getrandbits(32),
        )
        return FilteredTransport(tcp, self.links)

    async def _run_node(self, node_id: str, *, task_status: TaskStatus[None]) -> None:
        transport = self._make_transport(node_id)
        machine = self._state_machine()
        self.machines[node_id] = machine
        stopped = anyio.Event()
        try:
            with anyio.CancelScope() as scope:
                async with transport:
                    if isinstance(transport, FilteredTransport):
                        self._publish_port(node_id, transport.inner)
                    node = RaftNode(
                        node_id,
                        self._bootstrap,
                        transport,
                        self.storages[node_id],
                        machine,
                        self.config,
                        self.tick_interval,
                        seed=self.rng.getrandbits(32),
                    )
                    async with node:
                        self._running[node_id] = _Running(node, scope, stopped)
                        task_status.started()
                        await anyio.sleep_forever()
        finally:
            current = self._running.get(node_id)
            if current is not None and current.stopped is stopped:
                del self._running[node_id]
            stopped.set()

    def _publish_port(self, node_id: str, tcp: Any) -> None:
        host, port = tcp.listen_address
        self._ports[node_id] = port
        for other, r in self._running.items():
            inner = getattr(r.node.transport, "inner", None)
            if other != node_id and inner is not None:
                inner.set_peer(node_id, (host, port))
