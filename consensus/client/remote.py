"""RemoteClient: the session-keeping world `Client` API, over TCP to node processes.

It speaks the client protocol (`consensus.client.protocol`) to the nodes of
a cluster started with ``lmteams node``, on the same addresses the nodes use
for Raft, authenticated with the cluster's shared secret::

    async with RemoteClient({"a": ("127.0.0.1", 7001), "b": ("127.0.0.1", 7002)},
                            "agent-1", secret=secret) as client:
        await client.put("plan", {"step": 1})
        plan = await client.get("plan")  # {"step": 1}, a linearizable read

Leader finding, redirects, retries with backoff, ``(client_id, seq)``
sessions and `ClientTimeout` are those of every `SessionClient`; only the
way one call reaches one node differs. Each call takes an idle connection
to that node (or opens one) and puts it back after the answer, so concurrent
calls use separate connections; a call that is cancelled or times out
closes its connection, so a late answer can never be taken for another's.
"""

from __future__ import annotations

import itertools
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio
import structlog

from lmteams.consensus.client.protocol import (
    BadRequest,
    ErrorCode,
    ErrorResponse,
    MemberRequest,
    MembersResponse,
    NodeStatus,
    ProposeRequest,
    ReadRequest,
    ResultResponse,
    ServerError,
    StatusRequest,
    StatusResponse,
    decode_response,
    encode,
)
from lmteams.consensus.client.session import ClientTimeout, NodeUnreachable
from lmteams.consensus.client.world import WORLD_SESSIONS, WorldCommands
from lmteams.consensus.errors import NotLeader, ProposalDropped
from lmteams.consensus.node.raft_node import NodeStopped
from lmteams.consensus.world import DEFAULT_MAX_RESULTS_PER_SESSION, Applied, Proposal, Rejected
from lmteams.transports import (
    DEFAULT_MAX_FRAME_SIZE,
    Address,
    AsyncLifetime,
    Backoff,
    FramedConnection,
    TransportError,
    open_connection,
)
from lmteams.transports.handshake import encode_node_id

__all__ = ["RemoteClient", "parse_address"]

log = structlog.get_logger(__name__)

_CONNECTION_ERRORS = (
    OSError,
    TransportError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
    anyio.IncompleteRead,
    ssl.SSLError,
)


def parse_address(text: str) -> Address:
    """``"host:port"`` (or ``"[v6]:port"``) as ``(host, port)``; raise ``ValueError`` saying what is wrong."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError(f"address {text!r} is not HOST:PORT (e.g. 127.0.0.1:7001)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError(f"address {text!r} has no valid port: give a number in 1..65535")
    return (host, int(port))


class RemoteClient(WorldCommands, AsyncLifetime):
    """A client of node processes, over TCP.

    Args:
        cluster: node id -> ``(host, port)`` of every node (more are learned
            from ``not_leader`` answers).
        client_id: this client's session id; unique per client incarnation
            (a restarted client must pick a new one). Also its name in the
            handshake, so at most 255 UTF-8 bytes.
        secret: the cluster's shared secret.
        seed, attempt_timeout, deadline, backoff: as for every `SessionClient`.
        connect_timeout: seconds to connect and authenticate to one node.
        ssl_context: a client TLS context, if the nodes use TLS.
    """

    def __init__(
        self,
        cluster: Mapping[str, Address],
        client_id: str,
        *,
        secret: bytes,
        seed: int = 0,
        attempt_timeout: float = 1.0,
        deadline: float = 10.0,
        backoff: Backoff | None = None,
        connect_timeout: float = 1.0,
        ssl_context: ssl.SSLContext | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        super().__init__(
            client_id,
            codec=WORLD_SESSIONS,
            seed=seed,
            attempt_timeout=attempt_timeout,
            deadline=deadline,
            backoff=backoff,
            window=DEFAULT_MAX_RESULTS_PER_SESSION,
        )
        if not cluster:
            raise ValueError("a RemoteClient needs the address of at least one node")
        encode_node_id(client_id)
        if not isinstance(secret, bytes) or not secret:
            raise ValueError("secret must be the cluster's non-empty shared secret, as bytes")
        self.addresses: dict[str, Address] = {}
        for node_id, address in cluster.items():
            encode_node_id(node_id)
            self.addresses[node_id] = (str(address[0]), int(address[1]))
        self._secret = secret
        self.connect_timeout = connect_timeout
        self.ssl_context = ssl_context
        self.max_frame_size = max_frame_size
        self._idle: dict[str, list[FramedConnection]] = {}
        self._ids = itertools.count(1)

    # -- lifecycle ----------------------------------------------------------------

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close every idle connection; the client may still be used (it reconnects)."""
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                await connection.aclose()

    # -- SessionClient: one call on one node ------------------------------------------------------------------

    def node_ids(self) -> Sequence[str]:
        return sorted(self.addresses)

    async def _propose_on(self, node_id: str, proposal: Proposal, data: bytes, timeout: float) -> Applied | Rejected:
        with anyio.fail_after(timeout):
            response = await self._request(node_id, ProposeRequest(id=next(self._ids), proposal=proposal))
        return self._result(node_id, response)

    async def _read_on(self, node_id: str, command: Any, timeout: float) -> Applied | Rejected:
        with anyio.fail_after(timeout):
            response = await self._request(node_id, ReadRequest(id=next(self._ids), command=command))
        return self._result(node_id, response)

    # -- status ------------------------------------------------------------------------

    async def status(self, node_id: str, timeout: float | None = None) -> NodeStatus:
        """``node_id``'s own status (role, term, commit and applied index, world digest); one attempt.

        Raises `NodeUnreachable` if it cannot be reached, ``TimeoutError``
        after ``timeout`` (default: ``attempt_timeout``).
        """
        with anyio.fail_after(timeout if timeout is not None else self.attempt_timeout):
            response = await self._request(node_id, StatusRequest(id=next(self._ids)))
        if isinstance(response, StatusResponse):
            return response.status
        raise self._error(node_id, response)

    # -- membership ------------------------------------------------------------------------

    async def change_member(self, op: Literal["add", "remove"], node_id: str) -> MembersResponse:
        """Add (a learner that catches up, then is promoted) or remove ``node_id`` through the leader,
        following redirects until ``deadline``; the configuration once the change committed.

        Raises `ClientTimeout` when no leader answered in time, `ServerError` when the leader refused
        (for example: not caught up in time, another change in progress)."""
        encode_node_id(node_id)
        target: str | None = None
        errors: list[str] = []
        with anyio.move_on_after(self.deadline):
            while True:
                for node in [target] if target is not None else self.node_ids():
                    try:
                        response = await self._request(node, MemberRequest(id=next(self._ids), op=op, node_id=node_id))
                    except NodeUnreachable as exc:
                        errors.append(str(exc))
                        target = None
                        continue
                    if isinstance(response, MembersResponse):
                        return response
                    error = self._error(node, response)
                    if isinstance(error, NotLeader):
                        target = error.leader_hint
                        if target is not None:
                            break
                        continue
                    if isinstance(error, (ProposalDropped, NodeStopped, TimeoutError)):
                        errors.append(str(error))
                        continue
                    raise error
                await anyio.sleep(0.1)
        raise ClientTimeout(
            f"no leader completed the change within {self.deadline}s" + (f": {errors[-1]}" if errors else "")
        )

    # -- one request on one node ----------------------------------------------------------

    async def _request(
        self, node_id: str, request: ProposeRequest | ReadRequest | StatusRequest | MemberRequest
    ) -> Any:
        connection = await self._connection(node_id)
        done = False
        try:
            await connection.send(encode(request))
            response = decode_response(await connection.receive())
            if response.id != request.id:
                raise BadRequest(f"node {node_id!r} answered request {response.id} to request {request.id}")
            done = True
        except _CONNECTION_ERRORS as exc:
            raise NodeUnreachable(f"lost the connection to {node_id!r}: {exc!r}") from exc
        except BadRequest as exc:
            raise NodeUnreachable(f"node {node_id!r} sent a malformed response: {exc}") from exc
        finally:
            if done:
                self._idle.setdefault(node_id, []).append(connection)
            else:
                with anyio.CancelScope(shield=True):
                    await connection.aclose()
        return response

    async def _connection(self, node_id: str) -> FramedConnection:
        idle = self._idle.get(node_id)
        if idle:
            return idle.pop()
        address = self.addresses.get(node_id)
        if address is None:
            raise NodeUnreachable(f"no address is known for node {node_id!r}")
        try:
            return await open_connection(
                address,
                secret=self._secret,
                client_id=self.client_id,
                expected_node=node_id,
                ssl_context=self.ssl_context,
                connect_timeout=self.connect_timeout,
                handshake_timeout=self.connect_timeout,
                max_frame_size=self.max_frame_size,
            )
        except TimeoutError as exc:
            raise NodeUnreachable(f"{node_id!r} at {address[0]}:{address[1]} did not answer in time") from exc
        except _CONNECTION_ERRORS as exc:
            raise NodeUnreachable(f"cannot reach {node_id!r} at {address[0]}:{address[1]}: {exc}") from exc

    def _result(self, node_id: str, response: Any) -> Applied | Rejected:
        if isinstance(response, ResultResponse):
            return response.result
        raise self._error(node_id, response)

    def _error(self, node_id: str, response: Any) -> Exception:
        if not isinstance(response, ErrorResponse):
            return NodeUnreachable(f"node {node_id!r} sent a {response.type!r} response where another was expected")
        code = response.code
        if code is ErrorCode.NOT_LEADER:
            hint = response.leader_id
            if hint is not None and response.leader_address is not None:
                try:
                    address = parse_address(response.leader_address)
                except ValueError:
                    log.warning("client.bad_leader_address", node=node_id, address=response.leader_address)
                else:
                    if self.addresses.get(hint) != address:
                        log.info("client.learned_address", node=hint, address=response.leader_address)
                        self.addresses[hint] = address
            return NotLeader(node_id, hint)
        if code is ErrorCode.DROPPED:
            return ProposalDropped(response.message)
        if code is ErrorCode.STOPPED:
            return NodeStopped(response.message)
        if code is ErrorCode.TIMEOUT:
            return TimeoutError(f"node {node_id!r}: {response.message}")
        return ServerError(node_id, code.value, response.message)
