"""Pluggable byte transports between nodes.

A `Transport` sends opaque bytes to a peer id and yields the
``(peer_id, data)`` pairs it receives; delivery is at-most-once and
unordered, which Raft tolerates. Two implementations:

- `MemoryNetwork` / `MemoryEndpoint`: in-process, seeded fault injection
  (drop, duplicate, delay/reorder, partitions). The default for tests and
  in-process teams; needs no network.
- `TcpTransport`: separate processes and hosts; length-prefixed frames, an
  HMAC-SHA256 handshake over a shared secret, optional TLS, reconnection with
  capped exponential backoff. The same listener can also serve authenticated
  request/response client connections (``client_handler``, `FramedConnection`,
  `open_connection`); the frames' content is the caller's business.

Nothing here imports `consensus` or `runtime`.
"""

from lmteams.transports.backoff import Backoff
from lmteams.transports.base import (
    FrameTooLarge,
    HandshakeError,
    IncompleteFrame,
    NodeIdInUse,
    Transport,
    TransportClosed,
    TransportConfigError,
    TransportError,
    UnknownPeer,
)
from lmteams.transports.framing import DEFAULT_MAX_FRAME_SIZE
from lmteams.transports.handshake import ConnectionRole
from lmteams.transports.lifetime import AlreadyRunning, AsyncLifetime, stoppable_task_group
from lmteams.transports.links import FilteredTransport, LinkTable
from lmteams.transports.memory import MemoryEndpoint, MemoryNetwork
from lmteams.transports.stats import MemoryStats, TcpStats, TransportStats
from lmteams.transports.tcp import Address, ClientHandler, FramedConnection, TcpTransport, open_connection

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "Address",
    "AlreadyRunning",
    "AsyncLifetime",
    "Backoff",
    "ClientHandler",
    "ConnectionRole",
    "FilteredTransport",
    "FramedConnection",
    "FrameTooLarge",
    "HandshakeError",
    "IncompleteFrame",
    "LinkTable",
    "MemoryEndpoint",
    "MemoryNetwork",
    "MemoryStats",
    "NodeIdInUse",
    "TcpStats",
    "TcpTransport",
    "Transport",
    "TransportClosed",
    "TransportConfigError",
    "TransportError",
    "TransportStats",
    "UnknownPeer",
    "open_connection",
    "stoppable_task_group",
]
