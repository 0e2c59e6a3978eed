"""One node of a multi-process cluster: what ``lmteams node`` runs.

`NodeProcess(config)` is an async context manager that runs, in this
process, a `RaftNode` over `FileStorage` (the data directory; every save is
fsynced, so a SIGKILL loses nothing the node acknowledged), a fresh
`WorldState` (rebuilt by replaying the committed log), and one
`TcpTransport` listening on ``config.listen`` for both Raft peers and
clients: clients' requests are answered by a `ClientServer`::

    config = NodeConfig(node_id="a", listen=("127.0.0.1", 7001),
                        peers={"b": ("127.0.0.1", 7002), "c": ("127.0.0.1", 7003)},
                        data_dir="data/a", secret=b"...")
    async with NodeProcess(config) as proc:
        await anyio.sleep_forever()

Leaving the block stops the node (callers still waiting get ``NodeStopped``),
closes the listener and connections, and closes the storage.
"""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio
import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lmteams.consensus.client.server import ClientServer
from lmteams.consensus.core.config import RaftConfig
from lmteams.consensus.errors import ConsensusError
from lmteams.consensus.node.file_storage import FileStorage
from lmteams.consensus.node.raft_node import RaftNode
from lmteams.consensus.world import WorldState
from lmteams.transports import Address, AsyncLifetime, FramedConnection, TcpTransport
from lmteams.transports.handshake import encode_node_id

__all__ = ["NodeConfig", "NodeConfigError", "NodeProcess"]

log = structlog.get_logger(__name__)

READD_MARKER = "awaiting-readd"
"""In a data directory: the node joined with --join and has not been added back yet (it must not vote)."""


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


Port = Annotated[int, Field(ge=1, le=65535)]


class NodeConfigError(ConsensusError, ValueError):
    """A node process was configured wrongly (the message says what to fix)."""


class NodeConfig(BaseModel):
    """What one node process needs. Every node of a cluster lists all the others as ``peers``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    node_id: str
    listen: tuple[str, Port]
    """Where this node listens for peers and clients (the address the others list for it)."""
    peers: dict[str, tuple[str, Port]]
    """Every other node: id -> address."""
    data_dir: Path
    secret: bytes = Field(repr=False, min_length=1)
    tick_interval: float = Field(0.05, gt=0, le=10)
    """Seconds per Raft tick; election timeouts and heartbeats are counted in ticks (see ``raft``)."""
    raft: RaftConfig = Field(default_factory=RaftConfig)
    seed: int | None = None
    """Seeds election timeouts and transport backoff jitter; None draws one."""
    request_timeout: float = Field(30.0, gt=0)
    fsync: bool = True
    join: bool = False
    """Join an existing cluster with an empty data directory (``lmteams node --join``): the node neither
    votes nor campaigns until the cluster has removed it and added it back (``lmteams kv member``)."""

    @field_validator("node_id")
    @classmethod
    def _wire_id(cls, node_id: str) -> str:
        encode_node_id(node_id)
        return node_id

    @model_validator(mode="after")
    def _distinct(self) -> NodeConfig:
        if self.node_id in self.peers:
            raise ValueError(f"node id {self.node_id!r} is also listed as a peer: every node id must be unique")
        for peer in self.peers:
            encode_node_id(peer)
        seen: dict[tuple[str, int], str] = {self.listen: self.node_id}
        for peer, address in self.peers.items():
            if address in seen:
                raise ValueError(
                    f"{peer!r} and {seen[address]!r} have the same address {address[0]}:{address[1]}: "
                    "every node needs its own"
                )
            seen[address] = peer
        return self

    @property
    def addresses(self) -> dict[str, Address]:
        """Every node's address, this one included."""
        return {self.node_id: self.listen, **self.peers}


class NodeProcess(AsyncLifetime):
    """Runs one node (see the module docstring). Attributes once started:
    ``node``, ``transport``, ``server``, ``storage``, ``machine``, ``listen_address``."""

    def __init__(self, config: NodeConfig, *, bind_retry_s: float = 5.0) -> None:
        self.config = config
        self.bind_retry_s = bind_retry_s
        self.storage: FileStorage | None = None
        self.machine = WorldState()
        self.transport: TcpTransport | None = None
        self.node: RaftNode | None = None
        self.server: ClientServer | None = None
        self.log = log.bind(node=config.node_id)

    @property
    def listen_address(self) -> Address:
        if self.transport is None:
            raise ConsensusError("the node process is not running")
        return self.transport.listen_address

    async def _serve_client(self, connection: FramedConnection) -> None:
        assert self.server is not None
        await self.server.serve(connection)

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        cfg = self.config
        started = False
        try:
            async with AsyncExitStack() as stack:
                storage = await anyio.to_thread.run_sync(lambda: FileStorage(cfg.data_dir, fsync=cfg.fsync))
                stack.callback(storage.close)
                self.storage = storage
                self.transport = await self._start_transport(stack)
                self.node = RaftNode(
                    cfg.node_id,
                    [cfg.node_id, *cfg.peers],
                    self.transport,
                    storage,
                    self.machine,
                    cfg.raft,
                    cfg.tick_interval,
                    seed=cfg.seed,
                    **self._join_options(storage),
                )
                self.server = ClientServer(self.node, cfg.addresses, request_timeout=cfg.request_timeout)
                await stack.enter_async_context(self.node)
                self.log.info(
                    "node.started",
                    listen=f"{self.listen_address[0]}:{self.listen_address[1]}",
                    peers=sorted(cfg.peers),
                    data_dir=str(cfg.data_dir),
                    term=self.node.term,
                    commit=self.node.commit_index,
                    tick_interval=cfg.tick_interval,
                )
                started = True
                yield
        finally:
            if started:
                self.log.info("node.stopped")

    def _join_options(self, storage: FileStorage) -> dict[str, Any]:
        """Whether this node awaits being added back, kept in a marker file until it has been."""
        cfg = self.config
        marker = cfg.data_dir / READD_MARKER
        if cfg.join and storage.created:
            marker.write_bytes(b"removed, wiped and started with --join: awaiting `lmteams kv member add`\n")
            _fsync_path(marker)
            _fsync_path(cfg.data_dir)
        elif cfg.join and not marker.exists():
            self.log.info("node.join_ignored", detail="the data directory is not empty: restarting as before")
        elif storage.created:
            self.log.warning(
                "node.empty_data_dir",
                data_dir=str(cfg.data_dir),
                detail="starting empty as a member of a new cluster. If this node was a member before and lost "
                "its data, stop it now: remove it, wipe the directory, start it with --join and add it back "
                "(README, 'Operations: a damaged node')",
            )
        if not marker.exists():
            return {}
        self.log.warning("node.awaiting_readd", detail="will not vote until removed and added back")

        def readded() -> None:
            marker.unlink(missing_ok=True)
            _fsync_path(cfg.data_dir)

        return {"joining": True, "on_readded": readded}

    async def _start_transport(self, stack: AsyncExitStack) -> TcpTransport:
        """Start the transport, retrying a bind that fails with 'address in use' for up to ``bind_retry_s``
        (a restarted node may find its port briefly held)."""
        cfg = self.config
        deadline = anyio.current_time() + self.bind_retry_s
        while True:
            transport = TcpTransport(
                cfg.node_id,
                cfg.listen,
                cfg.peers,
                secret=cfg.secret,
                seed=cfg.seed,
                client_handler=self._serve_client,
            )
            try:
                return await stack.enter_async_context(transport)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or anyio.current_time() >= deadline:
                    raise
                self.log.warning("node.address_in_use", listen=f"{cfg.listen[0]}:{cfg.listen[1]}", retrying=True)
                await anyio.sleep(0.2)
