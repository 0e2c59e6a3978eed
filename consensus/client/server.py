"""The server side of the client protocol: answers requests with a `RaftNode`.

`ClientServer.serve` is a ``client_handler`` for `transports.TcpTransport`:
it reads request frames from one authenticated client connection, runs each
(``node.propose(encoded proposal)``, ``node.read(command)`` or a status
snapshot) and writes the response frame. Requests of one connection run
concurrently (up to ``max_in_flight``) and are answered as they finish, each
response carrying its request's ``id``; when the client goes away, its
unfinished requests are cancelled (a proposal already handed to Raft may
still commit, which the client's session makes safe to retry).

Nothing a client sends can stop the node: a frame that is not a valid
request is answered with a ``bad_request`` error and the connection stays
open; an unexpected failure is logged and answered with ``internal``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

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
    StatusRequest,
    StatusResponse,
    decode_request,
    encode,
    request_id_of,
)
from lmteams.consensus.errors import (
    ConfChangeInProgress,
    ConfChangeRejected,
    ConfChangeTooEarly,
    ConsensusError,
    NotLeader,
    ProposalDropped,
)
from lmteams.consensus.node.raft_node import CatchUpTimeout, NodeStopped, RaftNode
from lmteams.consensus.world import InvalidCommand, encode_proposal
from lmteams.transports import Address, FramedConnection

__all__ = ["ClientServer"]

log = structlog.get_logger(__name__)

_Response = ResultResponse | StatusResponse | MembersResponse | ErrorResponse


def _semaphore(value: int) -> anyio.Semaphore:
    """A semaphore that, when a slot is free, takes it without a trip through the event loop (anyio >= 4.5)."""
    try:
        return anyio.Semaphore(value, fast_acquire=True)
    except TypeError:  # an older anyio
        return anyio.Semaphore(value)


def _format(address: Address) -> str:
    return f"{address[0]}:{address[1]}"


class ClientServer:
    """Serves the client protocol for one node.

    Args:
        node: the replica to propose to and read from.
        addresses: node id -> the address where clients reach it, used to
            turn a ``NotLeader`` hint into a ``leader_address``.
        request_timeout: seconds a request may wait for its outcome before it
            is answered with ``timeout`` (it may still take effect).
        max_in_flight: requests of one connection handled at once; further
            ones wait to be read.
    """

    def __init__(
        self,
        node: RaftNode,
        addresses: Mapping[str, Address] | None = None,
        *,
        request_timeout: float = 30.0,
        max_in_flight: int = 64,
    ) -> None:
        if request_timeout <= 0:
            raise ValueError(f"request_timeout must be positive seconds, got {request_timeout}")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        self.node = node
        self.addresses = dict(addresses or {})
        self.request_timeout = request_timeout
        self.max_in_flight = max_in_flight
        self.requests = 0
        self.bad_requests = 0

    # -- one connection ---------------------------------------------------------

    async def serve(self, connection: FramedConnection) -> None:
        """Answer ``connection``'s requests until the client closes it.

        Transport errors (a cut or oversized frame) propagate to the caller,
        which closes the connection.
        """
        slots = _semaphore(self.max_in_flight)
        async with anyio.create_task_group() as tg:
            try:
                while True:
                    try:
                        payload = await connection.receive()
                    except anyio.EndOfStream:
                        return
                    await slots.acquire()
                    tg.start_soon(self._answer, connection, payload, slots)
            finally:
                # The client is gone (or the node stops): nobody will read these answers.
                tg.cancel_scope.cancel()

    async def _answer(self, connection: FramedConnection, payload: bytes, slots: anyio.Semaphore) -> None:
        try:
            response = await self.handle(payload, client=connection.remote_id)
            try:
                await connection.send(encode(response))
            except Exception as exc:  # noqa: BLE001 - the client went away; its reader ends the connection
                log.info("client.reply_failed", node=self.node.id, client=connection.remote_id, error=repr(exc))
        finally:
            slots.release()

    # -- one request --------------------------------------------------------------

    async def handle(self, payload: bytes, *, client: str = "?") -> _Response:
        """The response to one request frame. Never raises (except cancellation)."""
        self.requests += 1
        try:
            request = decode_request(payload)
        except BadRequest as exc:
            self.bad_requests += 1
            log.warning("client.bad_request", node=self.node.id, client=client, error=str(exc))
            return ErrorResponse(id=request_id_of(payload), code=ErrorCode.BAD_REQUEST, message=str(exc))
        try:
            if isinstance(request, StatusRequest):
                return StatusResponse(id=request.id, status=self.status())
            if isinstance(request, MemberRequest):
                return await self._member(request)
            with anyio.fail_after(self.request_timeout):
                if isinstance(request, ProposeRequest):
                    result = await self.node.propose(encode_proposal(request.proposal))
                else:
                    result = await self._read(request)
            return ResultResponse(id=request.id, result=result)
        except NotLeader as exc:
            hint = exc.leader_hint
            address = self.addresses.get(hint) if hint is not None else None
            return ErrorResponse(
                id=request.id,
                code=ErrorCode.NOT_LEADER,
                message=str(exc),
                leader_id=hint,
                leader_address=_format(address) if address is not None else None,
            )
        except ProposalDropped as exc:
            return ErrorResponse(id=request.id, code=ErrorCode.DROPPED, message=str(exc))
        except NodeStopped as exc:
            return ErrorResponse(id=request.id, code=ErrorCode.STOPPED, message=str(exc))
        except TimeoutError:
            return ErrorResponse(
                id=request.id,
                code=ErrorCode.TIMEOUT,
                message=f"no outcome within {self.request_timeout}s; the command may still take effect",
            )
        except (InvalidCommand, BadRequest) as exc:
            self.bad_requests += 1
            log.warning("client.bad_request", node=self.node.id, client=client, error=str(exc))
            return ErrorResponse(id=request.id, code=ErrorCode.BAD_REQUEST, message=str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must cost one answer, not the node
            log.exception("client.internal_error", node=self.node.id, client=client, request=request.type)
            kind = "consensus error" if isinstance(exc, ConsensusError) else "internal error"
            return ErrorResponse(id=request.id, code=ErrorCode.INTERNAL, message=f"{kind}: {exc!r}")

    async def _member(self, request: MemberRequest) -> MembersResponse | ErrorResponse:
        """Add (as a learner that catches up, then is promoted) or remove a member, on the leader."""
        log.info("client.member_change", node=self.node.id, op=request.op, member=request.node_id)
        try:
            with anyio.fail_after(self.request_timeout):
                if request.op == "add":
                    conf = await self.node.add_voter(request.node_id, timeout=self.request_timeout)
                else:
                    conf = await self.node.remove(request.node_id)
        except (ConfChangeInProgress, ConfChangeTooEarly) as exc:  # retryable: the client tries again
            return ErrorResponse(id=request.id, code=ErrorCode.DROPPED, message=str(exc))
        except (ConfChangeRejected, CatchUpTimeout) as exc:
            return ErrorResponse(id=request.id, code=ErrorCode.BAD_REQUEST, message=str(exc))
        return MembersResponse(id=request.id, voters=sorted(conf.voters), learners=sorted(conf.learners))

    async def _read(self, request: ReadRequest) -> Any:
        if not getattr(request.command, "read_only", False):
            raise BadRequest(
                f"'read' takes a read-only command (get, check_fence, task_status, list_tasks), "
                f"not {request.command.op!r}: send it as 'propose'"
            )
        return await self.node.read(request.command)

    def status(self) -> NodeStatus:
        """This node's role, term, indexes and world digest, read at one instant."""
        node = self.node
        snapshot = getattr(node.state_machine, "snapshot", None)
        digest = hashlib.sha256(snapshot()).hexdigest() if callable(snapshot) else ""
        return NodeStatus(
            node_id=node.id,
            role=node.role.value,
            term=node.term,
            leader_id=node.leader_id,
            commit_index=node.commit_index,
            applied_index=node.applied_index,
            world_digest=digest,
            lost_disk=node.lost_disks(),
            awaiting_readd=node.awaiting_readd,
        )
