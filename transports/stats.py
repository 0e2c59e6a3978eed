"""Counters every transport keeps, so tests and operators can see what happened.

The counters are plain integers updated from a single event loop; read them
whenever you like. They are never reset.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["MemoryStats", "TcpStats", "TransportStats"]


@dataclass(slots=True)
class TransportStats:
    """What every transport counts.

    - `sent`: messages that left this node (see the subclasses for the exact point).
    - `received`: messages yielded to the consumer by iteration.
    - `dropped_queue_full`: messages dropped because a bounded queue was full.
    """

    sent: int = 0
    received: int = 0
    dropped_queue_full: int = 0


@dataclass(slots=True)
class MemoryStats(TransportStats):
    """Counters of one `MemoryEndpoint`.

    Every counter except `received` is about messages this endpoint *sent*:

    - `sent`: `send` calls accepted by the network (before any fault is applied).
    - `dropped_queue_full`: the receiver's buffer was full.
    - `dropped_fault`: dropped by the network's random `drop` probability.
    - `dropped_partition`: sender and receiver were in different partition groups.
    - `dropped_peer_down`: the receiver's endpoint was closed (the peer is down).
    - `duplicated`: messages the network delivered twice.
    - `delayed`: copies delivered after a random delay rather than immediately.
    """

    dropped_fault: int = 0
    dropped_partition: int = 0
    dropped_peer_down: int = 0
    duplicated: int = 0
    delayed: int = 0


@dataclass(slots=True)
class TcpStats(TransportStats):
    """Counters of one `TcpTransport`.

    - `enqueued`: `send` calls that found room in the peer's queue.
    - `sent`: frames written to a peer's socket.
    - `dropped_queue_full`: `send` calls dropped because the peer's queue was full.
    - `dropped_send_failed`: messages taken off a queue whose write then failed
      because the connection broke.
    - `dial_attempts`, `dial_failures`: outbound connects (including the TLS and
      HMAC handshakes) tried, and those that failed.
    - `connections_out`, `connections_in`: authenticated outbound and inbound
      connections established.
    - `connections_lost`: established outbound connections that broke.
    - `rejected_connections`: inbound connections this node closed because of
      bad input (failed handshake, oversized or truncated frame, TLS error,
      too many pending handshakes); `rejection_reasons` counts them by reason.
    """

    enqueued: int = 0
    dropped_send_failed: int = 0
    dial_attempts: int = 0
    dial_failures: int = 0
    connections_out: int = 0
    connections_in: int = 0
    connections_lost: int = 0
    rejected_connections: int = 0
    rejection_reasons: Counter[str] = field(default_factory=Counter)
