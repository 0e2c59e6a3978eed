"""Mutual HMAC-SHA256 challenge-response over a shared secret.

Run right after the TCP (and TLS) connection is made, before any frame::

    server -> client   version (1 byte) + server_nonce (32 bytes)
    client -> server   len(client_id) (1 byte) + client_id (UTF-8, 1..255 bytes)
                       + client_nonce (32 bytes) + role (1 byte)
                       + HMAC(secret, b"lmteams-client" + server_nonce + client_nonce + role + client_id)
    server -> client   HMAC(secret, b"lmteams-server" + client_nonce + server_nonce + server_id)

The role says what the connection is for (`ConnectionRole`): ``0`` (``PEER``)
is another node of the cluster, whose frames are one-way messages; ``1``
(``CLIENT``) is an application client that sends requests and reads a
response on the same connection. The MAC covers the role, so it cannot be
changed on the way.

The server checks the client's MAC with `hmac.compare_digest`, then the role,
and then, for a peer, that the client id is one of its peers (a client's id
only names it in logs); the client checks that the server proved knowledge
of the secret *and* that it is the node the client meant to dial.
Fresh random nonces on both sides make a recorded handshake useless to replay,
and the two labels stop a MAC from one role being reflected as the other.

Every read has a fixed upper size (at most 1 + 255 + 32 + 1 + 32 bytes from
the client), and the caller bounds the whole exchange with `anyio.fail_after`.

The handshake authenticates the connection, not each frame: without TLS an
on-path attacker could still inject bytes after it. Use TLS across untrusted
networks.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Container
from dataclasses import dataclass
from enum import IntEnum

import anyio
from anyio.streams.buffered import BufferedByteStream

from lmteams.transports.base import HandshakeError, TransportConfigError

__all__ = [
    "Authenticated",
    "ConnectionRole",
    "MAC_SIZE",
    "MAX_NODE_ID_BYTES",
    "NONCE_SIZE",
    "PROTOCOL_VERSION",
    "client_handshake",
    "accept_handshake",
    "client_mac",
    "encode_node_id",
    "server_handshake",
    "server_mac",
]

PROTOCOL_VERSION = 1
NONCE_SIZE = 32
MAC_SIZE = 32
MAX_NODE_ID_BYTES = 255
_CLIENT_LABEL = b"lmteams-client"
_SERVER_LABEL = b"lmteams-server"


class ConnectionRole(IntEnum):
    """What an authenticated connection is for; sent (and MAC'd) in the handshake."""

    PEER = 0
    """Another node of the cluster: one-way message frames."""
    CLIENT = 1
    """An application client: request frames in, response frames out, on one connection."""


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The outcome of a successful server-side handshake."""

    role: ConnectionRole
    remote_id: str


def encode_node_id(node_id: str) -> bytes:
    """The UTF-8 bytes of a node id; raise `TransportConfigError` if it cannot go on the wire."""
    if not isinstance(node_id, str) or not node_id:
        raise TransportConfigError(f"node ids must be non-empty strings, got {node_id!r}")
    encoded = node_id.encode("utf-8")
    if len(encoded) > MAX_NODE_ID_BYTES:
        raise TransportConfigError(
            f"node id {node_id!r} is {len(encoded)} bytes in UTF-8; the limit is {MAX_NODE_ID_BYTES}"
        )
    return encoded


def client_mac(
    secret: bytes, server_nonce: bytes, client_nonce: bytes, client_id: bytes, role: int = ConnectionRole.PEER
) -> bytes:
    """The client's proof: HMAC(secret, b"lmteams-client" + server_nonce + client_nonce + role + client_id)."""
    message = _CLIENT_LABEL + server_nonce + client_nonce + bytes([role]) + client_id
    return hmac.new(secret, message, hashlib.sha256).digest()


def server_mac(secret: bytes, client_nonce: bytes, server_nonce: bytes, server_id: bytes) -> bytes:
    """The server's proof: HMAC(secret, b"lmteams-server" + client_nonce + server_nonce + server_id)."""
    return hmac.new(secret, _SERVER_LABEL + client_nonce + server_nonce + server_id, hashlib.sha256).digest()


async def _receive(stream: BufferedByteStream, nbytes: int, what: str) -> bytes:
    try:
        return await stream.receive_exactly(nbytes)
    except (anyio.IncompleteRead, anyio.EndOfStream):
        raise HandshakeError("truncated_handshake", f"connection closed while waiting for the {what}") from None


async def accept_handshake(
    stream: BufferedByteStream,
    *,
    secret: bytes,
    node_id: str,
    known_peers: Container[str],
    accept_clients: bool = False,
) -> Authenticated:
    """Authenticate a connecting peer or client and prove this server's identity.

    A ``PEER`` must name one of `known_peers`; a ``CLIENT`` may name itself
    anything, but is accepted only when `accept_clients` is true.

    Raises `HandshakeError` (with `reason` ``truncated_handshake``, ``bad_node_id``,
    ``bad_hmac``, ``bad_role``, ``unknown_peer`` or ``clients_not_accepted``);
    nothing is read after a failure.
    """
    server_id = encode_node_id(node_id)
    server_nonce = secrets.token_bytes(NONCE_SIZE)
    await stream.send(bytes([PROTOCOL_VERSION]) + server_nonce)

    (id_length,) = await _receive(stream, 1, "client id length")
    if id_length == 0:
        raise HandshakeError("bad_node_id", "client sent an empty node id")
    raw_id = await _receive(stream, id_length, "client id")
    client_nonce = await _receive(stream, NONCE_SIZE, "client nonce")
    (raw_role,) = await _receive(stream, 1, "connection role")
    proof = await _receive(stream, MAC_SIZE, "client HMAC")

    if not hmac.compare_digest(proof, client_mac(secret, server_nonce, client_nonce, raw_id, raw_role)):
        raise HandshakeError("bad_hmac", "client HMAC does not match: the client uses a different secret")
    try:
        role = ConnectionRole(raw_role)
    except ValueError:
        raise HandshakeError(
            "bad_role",
            f"client asked for connection role {raw_role}; this node knows {[int(r) for r in ConnectionRole]}",
        ) from None
    try:
        client_id = raw_id.decode("utf-8")
    except UnicodeDecodeError:
        raise HandshakeError("bad_node_id", "client node id is not valid UTF-8") from None
    if role is ConnectionRole.PEER and client_id not in known_peers:
        raise HandshakeError(
            "unknown_peer", f"client {client_id!r} is not one of this node's peers; add it with set_peer()"
        )
    if role is ConnectionRole.CLIENT and not accept_clients:
        raise HandshakeError(
            "clients_not_accepted",
            f"client {client_id!r} asked for a client connection, but this node serves no clients "
            "(give TcpTransport a client_handler)",
        )

    await stream.send(server_mac(secret, client_nonce, server_nonce, server_id))
    return Authenticated(role, client_id)


async def server_handshake(
    stream: BufferedByteStream, *, secret: bytes, node_id: str, known_peers: Container[str]
) -> str:
    """Authenticate a connecting *peer* and prove this server's identity; return the peer's node id.

    The peers-only form of `accept_handshake` (client connections are refused
    with ``clients_not_accepted``).
    """
    result = await accept_handshake(stream, secret=secret, node_id=node_id, known_peers=known_peers)
    return result.remote_id


async def client_handshake(
    stream: BufferedByteStream,
    *,
    secret: bytes,
    node_id: str,
    expected_peer: str,
    role: ConnectionRole = ConnectionRole.PEER,
) -> None:
    """Prove this node's (or client's) identity to the server and check that it is `expected_peer`.

    Raises `HandshakeError` (with `reason` ``truncated_handshake``, ``bad_version``
    or ``bad_server_hmac``).
    """
    client_id = encode_node_id(node_id)
    peer_id = encode_node_id(expected_peer)
    greeting = await _receive(stream, 1 + NONCE_SIZE, "server greeting")
    if greeting[0] != PROTOCOL_VERSION:
        raise HandshakeError(
            "bad_version",
            f"server speaks handshake version {greeting[0]}, this node speaks {PROTOCOL_VERSION}",
        )
    server_nonce = greeting[1:]
    client_nonce = secrets.token_bytes(NONCE_SIZE)
    role = ConnectionRole(role)
    await stream.send(
        bytes([len(client_id)])
        + client_id
        + client_nonce
        + bytes([role])
        + client_mac(secret, server_nonce, client_nonce, client_id, role)
    )
    try:
        proof = await stream.receive_exactly(MAC_SIZE)
    except (anyio.IncompleteRead, anyio.EndOfStream):
        raise HandshakeError(
            "refused",
            f"{expected_peer!r} closed the connection during the handshake: the secrets differ, "
            + (
                f"or {node_id!r} is not in its peers" if role is ConnectionRole.PEER else "or it does not serve clients"
            ),
        ) from None
    if not hmac.compare_digest(proof, server_mac(secret, client_nonce, server_nonce, peer_id)):
        raise HandshakeError(
            "bad_server_hmac",
            f"the server did not prove it is {expected_peer!r} with our secret (wrong address, or a different secret)",
        )
