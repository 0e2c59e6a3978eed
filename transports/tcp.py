"""`TcpTransport`: length-prefixed frames over TCP, with an HMAC handshake and optional TLS.

Each node listens on one address and keeps one *outbound* connection per
peer; A's messages to B travel on the connection A dialed, and B's on the one
B dialed.

Outbound
    `send` puts the message into that peer's bounded queue (``queue_size``
    messages) or, when the queue is full, drops and counts it. One dialer task
    per peer connects (TLS when ``ssl_context`` is given), runs the client side
    of the handshake (`transports.handshake`) and then writes the queued
    messages as frames. If the dial fails or the connection breaks, it waits a
    capped, fully jittered exponential backoff and dials again; messages queued
    meanwhile are kept up to the queue bound (they may be stale by the time
    they arrive: delivery is at-most-once).

Inbound
    The listener accepts connections, runs the server side of TLS and of the
    handshake under one ``handshake_timeout``, at most
    ``max_pending_handshakes`` at a time, and then yields each frame as
    ``(peer_id, payload)``. A newer authenticated connection from the same peer
    replaces the older one.

Client connections
    The same listener also serves application clients when the transport is
    given a ``client_handler``. A client authenticates with the same shared
    secret, but with the handshake's ``CLIENT`` role (see
    `transports.handshake`); the transport then hands the connection to
    ``await client_handler(connection)`` as a `FramedConnection` (frames both
    ways: the handler reads requests and writes responses) and closes it when
    the handler returns. The transport does not look inside the frames. At most
    ``max_client_connections`` are served at once. Without a handler, client
    connections are refused (``clients_not_accepted``). The client side is
    `open_connection`.

Bad input never crashes the node: a failed handshake (garbage, wrong secret,
unknown node id, timeout), a TLS error, a frame longer than
``max_frame_size`` (its payload is never read) or a connection cut mid-frame
closes that connection, logs ``tcp.connection_rejected`` with a reason and
counts it in `TcpStats.rejected_connections` and `TcpStats.rejection_reasons`.

TLS
    Pass both ``ssl_context`` (a client context, e.g.
    ``ssl.create_default_context()`` trusting your CA; it is used to dial and
    checks the peer's certificate against the host in its address) and
    ``server_ssl_context`` (e.g. ``ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)``
    with this node's certificate loaded; it is used by the listener), or
    neither. Every node of a cluster must agree. Mutual TLS is configured on
    the contexts themselves (``verify_mode`` and ``load_cert_chain``).

Port 0
    ``listen=("127.0.0.1", 0)`` binds a free port; `listen_address` gives the
    real one once the transport has started. Peers whose address is not known
    yet can be named with ``None`` (or added later) and wired with `set_peer`.
"""

from __future__ import annotations

import random
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import structlog
from anyio.abc import AnyByteStream, SocketAttribute, SocketListener, SocketStream, TaskGroup
from anyio.lowlevel import checkpoint_if_cancelled
from anyio.streams.buffered import BufferedByteStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from anyio.streams.tls import TLSStream

from lmteams.transports.backoff import Backoff
from lmteams.transports.base import (
    FrameTooLarge,
    HandshakeError,
    IncompleteFrame,
    TransportClosed,
    TransportConfigError,
    TransportError,
    UnknownPeer,
    as_payload,
)
from lmteams.transports.framing import (
    DEFAULT_MAX_FRAME_SIZE,
    FrameReader,
    check_max_frame_size,
    encode_frame,
    encode_frames,
)
from lmteams.transports.handshake import ConnectionRole, accept_handshake, client_handshake, encode_node_id
from lmteams.transports.inbox import InboxIteration
from lmteams.transports.lifetime import AsyncLifetime, stoppable_task_group
from lmteams.transports.stats import TcpStats

__all__ = ["Address", "ClientHandler", "FramedConnection", "TcpTransport", "open_connection"]

log = structlog.get_logger(__name__)

Address = tuple[str, int]
"""A ``(host, port)`` pair."""

_NETWORK_ERRORS = (
    OSError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
    anyio.IncompleteRead,
)


class FramedConnection(AsyncLifetime):
    """One authenticated connection carrying length-prefixed frames both ways.

    A client gets one from `open_connection`; a `TcpTransport` hands the
    server side to its ``client_handler``. `send` may be called from several
    tasks at once (frames are never interleaved); `receive` from one task at
    a time.
    """

    def __init__(
        self,
        stream: BufferedByteStream,
        *,
        local_id: str,
        remote_id: str,
        remote_address: str,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        self._stream = stream
        self.local_id = local_id
        self.remote_id = remote_id
        """The id the other side authenticated with (a node id, or a client's self-chosen name)."""
        self.remote_address = remote_address
        self.max_frame_size = max_frame_size
        self._send_lock = _lock()
        self._reader = FrameReader(stream, max_frame_size=max_frame_size)
        self._closed = False

    async def send(self, payload: bytes) -> None:
        """Write one frame; raise `FrameTooLarge` (nothing sent) or a network error."""
        frame = encode_frame(as_payload(payload), max_frame_size=self.max_frame_size)
        async with self._send_lock:
            await self._stream.send(frame)

    async def receive(self) -> bytes:
        """Read one frame.

        Raises ``anyio.EndOfStream`` when the other side closed cleanly between
        frames, `IncompleteFrame` if it closed inside one, `FrameTooLarge` for a
        frame over `max_frame_size` (its payload is not waited for; close the connection).
        """
        return await self._reader.receive()

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Close the connection at once (idempotent)."""
        if not self._closed:
            self._closed = True
            await anyio.aclose_forcefully(self._stream)

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.aclose()

    def __repr__(self) -> str:
        return f"FramedConnection({self.local_id!r} <-> {self.remote_id!r} at {self.remote_address})"


def _lock() -> anyio.Lock:
    """A lock that, when free, is taken without a trip through the event loop (anyio >= 4.5)."""
    try:
        return anyio.Lock(fast_acquire=True)
    except TypeError:  # an older anyio
        return anyio.Lock()


_COALESCE_BYTES = 256 * 1024
"""A peer's queued messages are written together, up to about this many bytes per write."""


ClientHandler = Callable[[FramedConnection], Awaitable[None]]
"""Serves one authenticated client connection; the transport closes it when this returns."""


async def open_connection(
    address: tuple[str, int],
    *,
    secret: bytes,
    client_id: str,
    expected_node: str,
    ssl_context: ssl.SSLContext | None = None,
    connect_timeout: float = 5.0,
    handshake_timeout: float = 5.0,
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
) -> FramedConnection:
    """Dial a `TcpTransport` that has a ``client_handler`` and authenticate as a client.

    `client_id` names this client in the server's logs (1..255 UTF-8 bytes);
    `expected_node` is the node id the server must prove it is.

    Raises `HandshakeError` (wrong secret, wrong node, or the node serves no
    clients), ``TimeoutError``, ``ssl.SSLError`` or ``OSError`` (refused,
    unreachable).
    """
    _check_address(address, "address")
    encode_node_id(client_id)
    encode_node_id(expected_node)
    check_max_frame_size(max_frame_size)
    host, port = address
    stream: AnyByteStream | None = None
    try:
        with anyio.fail_after(_positive("connect_timeout", connect_timeout)):
            if ssl_context is None:
                stream = await anyio.connect_tcp(host, port)
            else:
                stream = await anyio.connect_tcp(host, port, ssl_context=ssl_context, tls_standard_compatible=False)
        buffered = BufferedByteStream(stream)
        with anyio.fail_after(_positive("handshake_timeout", handshake_timeout)):
            await client_handshake(
                buffered, secret=secret, node_id=client_id, expected_peer=expected_node, role=ConnectionRole.CLIENT
            )
    except BaseException:
        if stream is not None:
            await anyio.aclose_forcefully(stream)
        raise
    return FramedConnection(
        buffered,
        local_id=client_id,
        remote_id=expected_node,
        remote_address=_format(address),
        max_frame_size=max_frame_size,
    )


@dataclass(slots=True, eq=False)
class _Peer:
    """What the transport keeps per peer: its address, its outbound queue and its dialer's state."""

    address: Address | None
    queue_send: MemoryObjectSendStream[bytes]
    queue_receive: MemoryObjectReceiveStream[bytes]
    redial_now: anyio.Event | None = None
    """Set to cut the dialer's backoff short: the address changed, or the peer just connected in."""
    connection: anyio.CancelScope | None = None


def _check_address(address: object, what: str) -> Address:
    if not (
        isinstance(address, tuple)
        and len(address) == 2
        and isinstance(address[0], str)
        and isinstance(address[1], int)
        and 0 <= address[1] <= 65535
    ):
        raise TransportConfigError(f"{what} must be a (host, port) tuple with a port in 0..65535, got {address!r}")
    return (address[0], address[1])


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise TransportConfigError(f"{name} must be positive, got {value!r}")
    return float(value)


def _format(address: Address) -> str:
    return f"{address[0]}:{address[1]}"


def _sole_error(group: ExceptionGroup) -> Exception:
    """The one exception inside (nested) single-member groups, else ``group`` itself."""
    exc: Exception = group
    while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _describe_remote(stream: SocketStream) -> str:
    try:
        address = stream.extra(SocketAttribute.remote_address)
    except (OSError, anyio.TypedAttributeLookupError):
        return "unknown"
    if isinstance(address, str):  # a UNIX socket path
        return address
    return f"{address[0]}:{address[1]}"


class TcpTransport(InboxIteration, AsyncLifetime):
    """A `Transport` over TCP (see the module docstring for the protocol).

    Args:
        node_id: this node's id, sent in the handshake (1..255 UTF-8 bytes).
        listen: ``(host, port)`` to listen on; port 0 picks a free port, see
            `listen_address`.
        peers: peer id -> ``(host, port)``, or ``None`` for a peer whose address
            is set later with `set_peer`. Only these ids may connect in, and
            only these may be sent to.
        secret: the cluster's shared secret for the HMAC handshake (use at
            least 32 random bytes, e.g. ``secrets.token_bytes(32)``).
        ssl_context: client-side TLS context used to dial peers.
        server_ssl_context: server-side TLS context used by the listener. Give
            both TLS contexts or neither.
        max_frame_size: largest payload in bytes, both sent and accepted.
        queue_size: messages buffered per peer while it is slow or down, and
            received messages buffered until iterated.
        connect_timeout: seconds to connect (including the TLS handshake).
        handshake_timeout: seconds for the whole inbound TLS + HMAC handshake,
            and for the outbound HMAC handshake.
        backoff: the redial policy.
        max_pending_handshakes: inbound connections allowed to be in their
            handshake at once; further ones are closed at once.
        seed: seed of the `random.Random` used for backoff jitter.
        client_handler: serves authenticated client connections (see "Client
            connections" in the module docstring); None refuses clients.
        max_client_connections: client connections served at once; further
            ones are closed after the handshake (``too_many_clients``).
    """

    def __init__(
        self,
        node_id: str,
        listen: Address,
        peers: Mapping[str, Address | None] | None = None,
        *,
        secret: bytes,
        ssl_context: ssl.SSLContext | None = None,
        server_ssl_context: ssl.SSLContext | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        queue_size: int = 1024,
        connect_timeout: float = 5.0,
        handshake_timeout: float = 5.0,
        backoff: Backoff | None = None,
        max_pending_handshakes: int = 64,
        seed: int | None = None,
        client_handler: ClientHandler | None = None,
        max_client_connections: int = 256,
    ) -> None:
        encode_node_id(node_id)
        self.node_id = node_id
        initial_peers = {peer_id: self._check_peer(peer_id, address) for peer_id, address in (peers or {}).items()}
        self._listen = _check_address(listen, "listen")
        if not isinstance(secret, bytes) or not secret:
            raise TransportConfigError(
                "secret must be non-empty bytes shared by every node, e.g. secrets.token_bytes(32)"
            )
        self._secret = secret
        if (ssl_context is None) != (server_ssl_context is None):
            raise TransportConfigError(
                "give both ssl_context (used to dial) and server_ssl_context (used to listen), or neither: "
                "every node both dials and accepts connections"
            )
        self._ssl_context = ssl_context
        self._server_ssl_context = server_ssl_context
        self.max_frame_size = check_max_frame_size(max_frame_size)
        if queue_size < 1:
            raise TransportConfigError(f"queue_size must be at least 1, got {queue_size}")
        self.queue_size = queue_size
        self._connect_timeout = _positive("connect_timeout", connect_timeout)
        self._handshake_timeout = _positive("handshake_timeout", handshake_timeout)
        self._backoff = backoff if backoff is not None else Backoff()
        if max_pending_handshakes < 1:
            raise TransportConfigError(f"max_pending_handshakes must be at least 1, got {max_pending_handshakes}")
        self._max_pending_handshakes = max_pending_handshakes
        self._rng = random.Random(seed)
        if client_handler is not None and not callable(client_handler):
            raise TransportConfigError(f"client_handler must be an async callable, got {client_handler!r}")
        self._client_handler = client_handler
        if max_client_connections < 1:
            raise TransportConfigError(f"max_client_connections must be at least 1, got {max_client_connections}")
        self._max_client_connections = max_client_connections
        self._client_connections = 0

        self.stats: TcpStats = TcpStats()
        self._peers: dict[str, _Peer] = {}
        self._inbox_send, self._inbox_receive = anyio.create_memory_object_stream[tuple[str, bytes]](queue_size)
        self._inbound: dict[str, anyio.CancelScope] = {}
        self._pending_handshakes = 0
        self._tasks: TaskGroup | None = None
        self._listeners: list[SocketListener] = []
        self._listen_address: Address | None = None
        self._closed = False
        for peer_id, address in initial_peers.items():
            self.set_peer(peer_id, address)

    # -- configuration -----------------------------------------------------

    @property
    def listen_address(self) -> Address:
        """The ``(host, port)`` the listener is bound to (the real port when `listen` used port 0)."""
        if self._listen_address is None:
            raise TransportError("listen_address is known once the transport has started: use `async with transport`")
        return self._listen_address

    @property
    def peers(self) -> dict[str, Address | None]:
        """A copy of the peer id -> address table."""
        return {peer_id: state.address for peer_id, state in self._peers.items()}

    def set_peer(self, peer_id: str, address: Address | None) -> None:
        """Add a peer, or change its address (``None``: known, accepted inbound, but not dialed yet).

        A changed address takes effect at once: the dialer drops its current
        connection and dials the new address without waiting for its backoff.
        """
        address = self._check_peer(peer_id, address)
        state = self._peers.get(peer_id)
        if state is None:
            if self._closed:
                raise TransportClosed(f"transport {self.node_id!r} is closed")
            queue_send, queue_receive = anyio.create_memory_object_stream[bytes](self.queue_size)
            self._peers[peer_id] = _Peer(address, queue_send, queue_receive)
            if self._tasks is not None:
                self._tasks.start_soon(self._dial_loop, peer_id)
            return
        if state.address == address:
            return
        state.address = address
        if state.connection is not None:
            state.connection.cancel()
        if state.redial_now is not None:
            state.redial_now.set()

    def _check_peer(self, peer_id: str, address: Address | None) -> Address | None:
        encode_node_id(peer_id)
        if peer_id == self.node_id:
            raise TransportConfigError(f"peer id {peer_id!r} is this node's own id; a node does not dial itself")
        return None if address is None else _check_address(address, f"address of peer {peer_id!r}")

    def queued(self, peer_id: str) -> int:
        """How many messages wait in `peer_id`'s outbound queue."""
        state = self._peers.get(peer_id)
        if state is None:
            raise UnknownPeer(f"{peer_id!r} is not a peer of {self.node_id!r}")
        return state.queue_send.statistics().current_buffer_used

    # -- the Transport protocol --------------------------------------------

    async def send(self, peer: str, data: bytes) -> None:
        """Queue `data` for `peer`, or drop it if the queue is full; never waits for the peer.

        Raises `UnknownPeer` for an id not in `peers`, `FrameTooLarge` for a
        message over `max_frame_size`, and `TransportClosed` after `close`.
        """
        # A cancellation point without a trip through the event loop: a send never waits,
        # and a yield per message was a large share of a commit's cost.
        await checkpoint_if_cancelled()
        if self._closed:
            raise TransportClosed(f"transport {self.node_id!r} is closed; create a new TcpTransport to restart")
        state = self._peers.get(peer)
        if state is None:
            raise UnknownPeer(
                f"{self.node_id!r} has no peer {peer!r}; its peers are {sorted(self._peers)}. "
                "Pass it in peers= or call set_peer()"
            )
        payload = as_payload(data)
        if len(payload) > self.max_frame_size:
            raise FrameTooLarge(len(payload), self.max_frame_size)
        try:
            state.queue_send.send_nowait(payload)
        except anyio.WouldBlock:
            self.stats.dropped_queue_full += 1
            log.debug("tcp.dropped_queue_full", node=self.node_id, peer=peer, queue_size=self.queue_size)
        else:
            self.stats.enqueued += 1

    async def close(self) -> None:
        """Stop listening and dialing, close every connection and end iteration. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._tasks is not None:
            self._tasks.cancel_scope.cancel()
        self._inbox_send.close()
        self._inbox_receive.close()
        for state in self._peers.values():
            state.queue_send.close()
            state.queue_receive.close()
        with anyio.CancelScope(shield=True):
            for listener in self._listeners:
                await listener.aclose()
        log.info("tcp.closed", node=self.node_id)

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        if self._closed:
            raise TransportClosed(f"transport {self.node_id!r} is closed; create a new TcpTransport to restart")
        host, port = self._listen
        multi = await anyio.create_tcp_listener(local_host=host, local_port=port)
        async with multi, stoppable_task_group() as tasks:
            listeners = [listener for listener in multi.listeners if isinstance(listener, SocketListener)]
            bound = listeners[0].extra(SocketAttribute.local_address)
            self._listeners, self._tasks = listeners, tasks
            self._listen_address = (str(bound[0]), int(bound[1]))
            for listener in listeners:
                tasks.start_soon(self._accept_loop, listener)
            for peer_id in self._peers:
                tasks.start_soon(self._dial_loop, peer_id)
            log.info(
                "tcp.started",
                node=self.node_id,
                address=_format(self._listen_address),
                tls=self._ssl_context is not None,
            )
            try:
                yield
            finally:
                await self.close()

    # -- inbound -----------------------------------------------------------

    def _reject(self, reason: str, *, peer: str, detail: str | None = None) -> None:
        self.stats.rejected_connections += 1
        self.stats.rejection_reasons[reason] += 1
        log.warning("tcp.connection_rejected", node=self.node_id, peer=peer, reason=reason, detail=detail)

    async def _accept_loop(self, listener: SocketListener) -> None:
        while True:
            try:
                stream = await _accept(listener)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, ValueError):
                return
            except OSError as exc:  # e.g. out of file descriptors: keep serving the others
                log.warning("tcp.accept_failed", node=self.node_id, error=repr(exc))
                await anyio.sleep(0.1)
                continue
            if self._pending_handshakes >= self._max_pending_handshakes:
                self._reject(
                    "too_many_pending_handshakes",
                    peer=_describe_remote(stream),
                    detail=f"{self._pending_handshakes} handshakes already in progress",
                )
                await anyio.aclose_forcefully(stream)
                continue
            self._pending_handshakes += 1
            assert self._tasks is not None
            self._tasks.start_soon(self._serve_inbound, stream)

    async def _serve_inbound(self, raw: SocketStream) -> None:
        """Handshake one accepted connection and yield its frames; close it on any bad input."""
        remote = _describe_remote(raw)
        peer = remote
        stream: AnyByteStream = raw
        phase = "tls" if self._server_ssl_context is not None else "handshake"
        try:
            try:
                with anyio.fail_after(self._handshake_timeout):
                    if self._server_ssl_context is not None:
                        stream = await TLSStream.wrap(
                            raw, server_side=True, ssl_context=self._server_ssl_context, standard_compatible=False
                        )
                        phase = "handshake"
                    buffered = BufferedByteStream(stream)
                    authenticated = await accept_handshake(
                        buffered,
                        secret=self._secret,
                        node_id=self.node_id,
                        known_peers=self._peers,
                        accept_clients=self._client_handler is not None,
                    )
            finally:
                self._pending_handshakes -= 1
            phase = "frames"
            peer_id = authenticated.remote_id
            if authenticated.role is ConnectionRole.CLIENT:
                peer = f"client {peer_id!r} at {remote}"
                try:
                    await self._serve_client(peer_id, remote, buffered)
                except ExceptionGroup as group:  # a handler with a task group wraps a framing error
                    raise _sole_error(group) from None  # so that the branches below name it
                return
            peer = peer_id
            self.stats.connections_in += 1
            log.info("tcp.connection_accepted", node=self.node_id, peer=peer_id, address=remote)
            self._wake_dialer(peer_id)
            await self._receive_frames(peer_id, buffered)
        except HandshakeError as exc:
            self._reject(exc.reason, peer=peer, detail=str(exc))
        except FrameTooLarge as exc:
            self._reject("frame_too_large", peer=peer, detail=str(exc))
        except IncompleteFrame as exc:
            self._reject("truncated_frame", peer=peer, detail=str(exc))
        except TimeoutError as exc:
            if phase == "frames":
                log.info("tcp.connection_lost", node=self.node_id, peer=peer, error=repr(exc))
            else:
                self._reject("handshake_timeout", peer=peer, detail=f"no handshake within {self._handshake_timeout}s")
        except ssl.SSLError as exc:
            self._reject("tls_error", peer=peer, detail=repr(exc))
        except _NETWORK_ERRORS as exc:
            if phase == "frames":
                log.info("tcp.connection_lost", node=self.node_id, peer=peer, error=repr(exc))
            else:
                reason = "tls_error" if phase == "tls" else "connection_error"
                self._reject(reason, peer=peer, detail=repr(exc))
        except Exception as exc:  # bad input must never take the node down
            log.exception("tcp.connection_error", node=self.node_id, peer=peer)
            self._reject("internal_error", peer=peer, detail=repr(exc))
        finally:
            await anyio.aclose_forcefully(stream)

    async def _serve_client(self, client_id: str, remote: str, stream: BufferedByteStream) -> None:
        """Hand an authenticated client connection to the client handler; errors propagate to the caller."""
        assert self._client_handler is not None
        if self._client_connections >= self._max_client_connections:
            self._reject(
                "too_many_clients",
                peer=f"client {client_id!r} at {remote}",
                detail=f"{self._client_connections} client connections already open",
            )
            return
        self._client_connections += 1
        connection = FramedConnection(
            stream,
            local_id=self.node_id,
            remote_id=client_id,
            remote_address=remote,
            max_frame_size=self.max_frame_size,
        )
        log.info("tcp.client_accepted", node=self.node_id, client=client_id, address=remote)
        try:
            await self._client_handler(connection)
        finally:
            self._client_connections -= 1
        log.info("tcp.client_closed", node=self.node_id, client=client_id, address=remote)

    async def _receive_frames(self, peer_id: str, stream: BufferedByteStream) -> None:
        previous = self._inbound.get(peer_id)
        if previous is not None:
            previous.cancel()
        reader = FrameReader(stream, max_frame_size=self.max_frame_size)
        with anyio.CancelScope() as scope:
            self._inbound[peer_id] = scope
            try:
                while True:
                    try:
                        payload = await reader.receive()
                    except anyio.EndOfStream:
                        log.info("tcp.connection_closed", node=self.node_id, peer=peer_id)
                        return
                    try:
                        await self._inbox_send.send((peer_id, payload))
                    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                        return
            finally:
                if self._inbound.get(peer_id) is scope:
                    del self._inbound[peer_id]
        if scope.cancelled_caught:
            log.info("tcp.connection_replaced", node=self.node_id, peer=peer_id)

    # -- outbound ----------------------------------------------------------

    async def _dial_loop(self, peer_id: str) -> None:
        """Keep one authenticated connection to `peer_id` and write its queue to it."""
        state = self._peers[peer_id]
        attempt = 0
        while not self._closed:
            if state.redial_now is None or state.redial_now.is_set():
                state.redial_now = anyio.Event()
            address = state.address
            if address is None:
                await state.redial_now.wait()
                continue
            stream = await self._dial(peer_id, address)
            if stream is None:
                await self._wait_to_redial(state, attempt)
                attempt += 1
                continue
            attempt = 0
            try:
                with anyio.CancelScope() as scope:
                    state.connection = scope
                    await self._pump(peer_id, state, stream)
            finally:
                state.connection = None
                await anyio.aclose_forcefully(stream)
            if self._closed:
                return
            self.stats.connections_lost += 1
            log.info("tcp.connection_lost", node=self.node_id, peer=peer_id, address=_format(address))
            if state.address == address:
                await self._wait_to_redial(state, attempt)
                attempt += 1

    def _wake_dialer(self, peer_id: str) -> None:
        """A peer that just connected in is up: dial it now rather than after the backoff.

        Without this a restarted node could stay unreachable for up to the
        backoff cap (seconds), longer than an election timeout, on a link
        its peer never writes to (two followers), and lose the next PreVote.
        """
        state = self._peers.get(peer_id)
        if state is not None and state.connection is None and state.redial_now is not None:
            state.redial_now.set()

    async def _wait_to_redial(self, state: _Peer, attempt: int) -> None:
        """Sleep the backoff for `attempt`, or less if the address changes or the peer connects in."""
        assert state.redial_now is not None
        with anyio.move_on_after(self._backoff.delay(attempt, self._rng)):
            await state.redial_now.wait()

    async def _dial(self, peer_id: str, address: Address) -> BufferedByteStream | None:
        """Connect and authenticate to `peer_id`; on failure log, count and return None."""
        host, port = address
        self.stats.dial_attempts += 1
        stream: AnyByteStream | None = None
        try:
            with anyio.fail_after(self._connect_timeout):
                if self._ssl_context is None:
                    stream = await anyio.connect_tcp(host, port)
                else:
                    stream = await anyio.connect_tcp(
                        host, port, ssl_context=self._ssl_context, tls_standard_compatible=False
                    )
            buffered = BufferedByteStream(stream)
            with anyio.fail_after(self._handshake_timeout):
                await client_handshake(buffered, secret=self._secret, node_id=self.node_id, expected_peer=peer_id)
        except HandshakeError as exc:
            log.warning("tcp.dial_failed", node=self.node_id, peer=peer_id, reason=exc.reason, detail=str(exc))
        except TimeoutError:
            log.info("tcp.dial_failed", node=self.node_id, peer=peer_id, reason="timeout", address=_format(address))
        except ssl.SSLError as exc:
            log.warning("tcp.dial_failed", node=self.node_id, peer=peer_id, reason="tls_error", detail=repr(exc))
        except _NETWORK_ERRORS as exc:
            log.debug("tcp.dial_failed", node=self.node_id, peer=peer_id, reason="connect_error", detail=repr(exc))
        except Exception:  # whatever the peer sent, it must not take this node down
            log.exception("tcp.dial_failed", node=self.node_id, peer=peer_id, reason="internal_error")
        except BaseException:
            if stream is not None:
                await anyio.aclose_forcefully(stream)
            raise
        else:
            self.stats.connections_out += 1
            log.info("tcp.connected", node=self.node_id, peer=peer_id, address=_format(address))
            return buffered
        self.stats.dial_failures += 1
        if stream is not None:
            await anyio.aclose_forcefully(stream)
        return None

    async def _pump(self, peer_id: str, state: _Peer, stream: BufferedByteStream) -> None:
        """Write `peer_id`'s queued messages to `stream` until it breaks or the transport closes."""
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(self._watch_for_close, peer_id, stream, task_group.cancel_scope)
            try:
                queue = state.queue_receive
                while True:
                    try:
                        payload = await queue.receive()
                    except (anyio.EndOfStream, anyio.ClosedResourceError):
                        return
                    # Whatever else is queued goes out in the same write (frames unchanged).
                    batch = [payload]
                    size = len(payload)
                    while size < _COALESCE_BYTES:
                        try:
                            payload = queue.receive_nowait()
                        except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                            break
                        batch.append(payload)
                        size += len(payload)
                    try:
                        await stream.send(encode_frames(batch, max_frame_size=self.max_frame_size))
                    except BaseException:
                        self.stats.dropped_send_failed += len(batch)
                        raise
                    self.stats.sent += len(batch)
            except Exception as exc:  # a broken connection, whatever the stream raised: redial
                log.info("tcp.write_failed", node=self.node_id, peer=peer_id, error=repr(exc))
            finally:
                task_group.cancel_scope.cancel()

    async def _watch_for_close(self, peer_id: str, stream: BufferedByteStream, scope: anyio.CancelScope) -> None:
        """End the connection as soon as the peer closes it, rather than at the next write.

        Connections carry data one way, so the server never sends after the
        handshake; anything it does send is a protocol error.
        """
        try:
            await stream.receive()
        except Exception:  # EOF, reset, TLS error: the connection is over
            pass
        else:
            log.warning(
                "tcp.unexpected_data", node=self.node_id, peer=peer_id, reason="peer sent data after the handshake"
            )
        scope.cancel()


async def _accept(listener: SocketListener) -> SocketStream:
    """``listener.accept()``, without asyncio's ``sock_accept``.

    On CPython before the fix for gh-153761, cancelling a pending
    ``loop.sock_accept`` just as a connection arrives raises
    ``InvalidStateError`` from the event loop and drops that connection; a
    node that is stopped (or crashed by a test) while a peer dials it hits
    exactly that. Waiting for readability is safe to cancel, and the accept
    itself is then a plain non-blocking call.
    """
    sock = listener.extra(SocketAttribute.raw_socket)
    while True:
        await anyio.wait_readable(sock)
        try:
            conn, _ = sock.accept()
        except (BlockingIOError, InterruptedError):
            continue  # another waiter took it, or a spurious wake-up
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return await SocketStream.from_socket(conn)
