"""The `Transport` protocol and the errors every transport raises.

A transport moves opaque byte strings between nodes named by string ids.
Delivery is at-most-once and unordered: a message may be lost, delayed,
duplicated (in the fault-injecting memory network) or overtaken by a later
one. Raft copes with all of that, so transports never retry on the caller's
behalf and never make `send` wait for a slow or unreachable peer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

__all__ = [
    "FrameTooLarge",
    "HandshakeError",
    "IncompleteFrame",
    "NodeIdInUse",
    "Transport",
    "TransportClosed",
    "TransportConfigError",
    "TransportError",
    "UnknownPeer",
    "as_payload",
]


def as_payload(data: bytes | bytearray | memoryview) -> bytes:
    """An immutable copy of a message, so the caller may reuse its buffer; reject anything else."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"transports send bytes, not {type(data).__name__}; encode the message first")
    return bytes(data)


@runtime_checkable
class Transport(Protocol):
    """Send bytes to a peer id and iterate the `(peer_id, data)` pairs received.

    - `send` is at-most-once and never blocks on a slow or unreachable peer:
      the message is queued or dropped. Sending to an id the transport does
      not know raises `UnknownPeer`; sending after `close` raises
      `TransportClosed`.
    - Iterating yields `(peer_id, data)` for every message received, and ends
      when the transport is closed.
    - `close` is idempotent. `async with transport:` starts the background
      tasks and closes the transport on exit.

    Implementations also expose a `stats` dataclass (see `transports.stats`).
    """

    node_id: str

    async def send(self, peer: str, data: bytes) -> None: ...

    def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...


class TransportError(Exception):
    """Base class of every error raised by `transports`."""


class TransportConfigError(TransportError, ValueError):
    """A transport or network was constructed or configured with invalid arguments."""


class TransportClosed(TransportError):
    """The transport was used after `close()`; create a new one to restart a node."""


class UnknownPeer(TransportError):
    """`send` named a peer id the transport has no entry for (a programming error)."""


class NodeIdInUse(TransportError):
    """A memory endpoint was created for a node id whose endpoint is still open."""


class HandshakeError(TransportError):
    """The authentication handshake failed.

    `reason` is a short machine-readable code (for example ``"bad_hmac"`` or
    ``"unknown_peer"``) used in logs and in `TcpStats.rejection_reasons`.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class FrameTooLarge(TransportError):
    """A frame's length exceeds the configured `max_frame_size`."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"frame of {size} bytes exceeds max_frame_size={limit}; "
            "raise max_frame_size on both ends or send smaller messages"
        )
        self.size = size
        self.limit = limit


class IncompleteFrame(TransportError):
    """The connection ended in the middle of a frame."""
