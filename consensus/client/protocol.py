"""The client protocol: requests to a node process and its responses, as JSON in frames.

A client connection (`transports.FramedConnection`, authenticated with the
cluster's secret in the handshake's ``CLIENT`` role) carries one JSON object
per frame each way. Every request has an ``id`` chosen by the client, and the
response to it carries the same ``id``; a server may answer the requests of
one connection out of order::

    {"v": 1, "id": 7, "type": "propose", "proposal": {"client_id": "c1", "seq": 3, "ack_below": 3,
                                                     "stamp": 0.0, "command": {"op": "put", ...}}}
    {"v": 1, "id": 8, "type": "read", "command": {"op": "get", "key": "x"}}
    {"v": 1, "id": 9, "type": "status"}

    {"v": 1, "id": 7, "type": "result", "result": {"ok": true, "value": null}}
    {"v": 1, "id": 9, "type": "status", "status": {"node_id": "a", "role": "leader", ...}}
    {"v": 1, "id": 8, "type": "error", "code": "not_leader", "message": "...",
     "leader_id": "b", "leader_address": "127.0.0.1:7002"}

``propose`` commits a world-state `Proposal` (the client's session
coordinates ride inside it); ``read`` is a linearizable read (ReadIndex) of a
read-only command; ``status`` describes the node that answers, including a
digest of its applied world state, so replicas can be compared.

Error codes (`ErrorCode`): ``not_leader`` (retry on ``leader_id``, at
``leader_address``, when given), ``dropped`` (a new leader overwrote the
entry: it never took effect), ``stopped`` (the node is starting or stopping),
``timeout`` (no outcome in the server's time limit: the command may still
commit), ``bad_request`` (the frame is not a valid request: fix the client;
``id`` is null if it could not be read), ``internal`` (a bug in the node).
Only the last two are not worth retrying.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from lmteams.consensus.errors import ConsensusError
from lmteams.consensus.world import Command, Proposal, Result
from lmteams.consensus.world.commands import describe

__all__ = [
    "PROTOCOL_VERSION",
    "REQUEST",
    "RESPONSE",
    "BadRequest",
    "ErrorCode",
    "ErrorResponse",
    "NodeStatus",
    "ProposeRequest",
    "ReadRequest",
    "Request",
    "Response",
    "ResultResponse",
    "ServerError",
    "StatusRequest",
    "StatusResponse",
    "MemberRequest",
    "MembersResponse",
    "decode_request",
    "decode_response",
    "encode",
    "request_id_of",
]

PROTOCOL_VERSION = 1
MAX_REQUEST_ID = 2**63 - 1

RequestId = Annotated[int, Field(ge=0, le=MAX_REQUEST_ID)]


class _Message(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    v: Literal[1] = 1
    id: RequestId


# -- requests -------------------------------------------------------------------


class ProposeRequest(_Message):
    """Commit ``proposal`` through the log; answered with a ``result``."""

    type: Literal["propose"] = "propose"
    proposal: Proposal


class ReadRequest(_Message):
    """A linearizable read of a read-only command (``get``, ``check_fence``, ...); answered with a ``result``."""

    type: Literal["read"] = "read"
    command: Command


class StatusRequest(_Message):
    """Describe the node that answers; answered with a ``status``."""

    type: Literal["status"] = "status"


class MemberRequest(_Message):
    """Change the cluster's membership on the leader; answered with a ``members`` response.

    ``add``: add ``node_id`` as a learner, wait until it has caught up, promote it to voter.
    ``remove``: remove ``node_id`` (voter or learner)."""

    type: Literal["member"] = "member"
    op: Literal["add", "remove"]
    node_id: Annotated[str, Field(min_length=1, max_length=255)]


Request = Annotated[ProposeRequest | ReadRequest | StatusRequest | MemberRequest, Field(discriminator="type")]
REQUEST: TypeAdapter[ProposeRequest | ReadRequest | StatusRequest | MemberRequest] = TypeAdapter(Request)


# -- responses ------------------------------------------------------------------


class NodeStatus(BaseModel):
    """One node's view of itself, read at one instant."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    node_id: str
    role: str
    term: Annotated[int, Field(ge=0)]
    leader_id: str | None
    commit_index: Annotated[int, Field(ge=0)]
    applied_index: Annotated[int, Field(ge=0)]
    world_digest: str
    """SHA-256 (hex) of the world state's snapshot at ``applied_index``: equal on replicas that applied the same prefix."""
    awaiting_readd: bool = False
    """This node joined with an empty disk and will not vote until removed and added back."""
    lost_disk: dict[str, int] = Field(default_factory=dict)
    """On a leader: followers found holding less than they acknowledged (a lost disk), and how often."""


class ResultResponse(_Message):
    type: Literal["result"] = "result"
    result: Result


class StatusResponse(_Message):
    type: Literal["status"] = "status"
    status: NodeStatus


class MembersResponse(_Message):
    """The configuration after a membership change committed."""

    type: Literal["members"] = "members"
    voters: list[str]
    learners: list[str]


class ErrorCode(StrEnum):
    NOT_LEADER = "not_leader"
    DROPPED = "dropped"
    STOPPED = "stopped"
    TIMEOUT = "timeout"
    BAD_REQUEST = "bad_request"
    INTERNAL = "internal"


class ErrorResponse(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    v: Literal[1] = 1
    id: RequestId | None
    """The request's id; None when the frame was too malformed to read one."""
    type: Literal["error"] = "error"
    code: Annotated[ErrorCode, Field(strict=False)]
    message: str
    leader_id: str | None = None
    leader_address: str | None = None
    """``host:port`` where clients reach ``leader_id``, when the answering node knows it."""


Response = Annotated[ResultResponse | StatusResponse | MembersResponse | ErrorResponse, Field(discriminator="type")]
RESPONSE: TypeAdapter[ResultResponse | StatusResponse | MembersResponse | ErrorResponse] = TypeAdapter(Response)


# -- errors ---------------------------------------------------------------------


class BadRequest(ConsensusError, ValueError):
    """A frame is not a valid request (or response); the message says what is wrong."""


class ServerError(ConsensusError):
    """The node answered with an error that retrying will not fix (``bad_request`` or ``internal``)."""

    def __init__(self, node_id: str, code: str, message: str) -> None:
        self.node_id = node_id
        self.code = code
        super().__init__(f"node {node_id!r} answered {code}: {message}")


# -- encoding -------------------------------------------------------------------


def encode(message: BaseModel) -> bytes:
    """A request or response as the JSON bytes of one frame."""
    return message.model_dump_json().encode()


def decode_request(data: bytes) -> ProposeRequest | ReadRequest | StatusRequest | MemberRequest:
    """Parse and validate a request frame; raise `BadRequest` saying what is wrong."""
    try:
        return REQUEST.validate_json(data)
    except ValidationError as exc:
        raise BadRequest(f"invalid request: {describe(exc)}") from None


def decode_response(data: bytes) -> ResultResponse | StatusResponse | MembersResponse | ErrorResponse:
    """Parse and validate a response frame; raise `BadRequest` saying what is wrong."""
    try:
        return RESPONSE.validate_json(data)
    except ValidationError as exc:
        raise BadRequest(f"invalid response: {describe(exc)}") from None


def request_id_of(data: bytes) -> int | None:
    """The ``id`` of a request that failed validation, if one can be read, so the error can name it."""
    try:
        obj: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if isinstance(obj, dict):
        rid = obj.get("id")
        if isinstance(rid, int) and not isinstance(rid, bool) and 0 <= rid <= MAX_REQUEST_ID:
            return rid
    return None
