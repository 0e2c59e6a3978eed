"""The world state's commands, and the proposal envelope that carries one.

Every command is a frozen pydantic model tagged by ``op``; ``Command`` is
their discriminated union. A ``Proposal`` wraps one command with the
client's session coordinates ``(client_id, seq)`` and the leader's clock
``stamp``, and is what a Raft entry holds, as JSON::

    {"client_id": "agent-3", "seq": 7, "ack_below": 6, "stamp": 1712.5,
     "command": {"op": "claim_task", "task": "t1", "agent": "agent-3", "lease_s": 30}}

Validation happens here, at the boundary, and is strict: no unknown
fields, no blank names, no string-for-number coercion, leases in
``(0, MAX_LEASE_S]`` seconds, values that are real JSON. ``decode_proposal``
raises ``InvalidCommand`` naming every problem; ``WorldState.apply`` turns
the same problems into ``Rejected(invalid_command)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from .errors import InvalidCommand
from .values import Value
from .views import TaskStatus

MAX_NAME_CHARS = 256
MAX_LEASE_S = 86_400.0
"""One day: a longer lease is almost certainly a unit mistake (ms for s)."""
MAX_PROPOSAL_BYTES = 1 << 20
MAX_SEQ = 2**63 - 1


def _not_blank(name: str) -> str:
    if not name.strip():
        raise ValueError("must not be blank (whitespace only)")
    return name


Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(_not_blank)]
"""A key, task, agent, resource or client id: 1..256 characters, not blank."""
LeaseSeconds = Annotated[float, Field(gt=0, le=MAX_LEASE_S, allow_inf_nan=False)]
Token = Annotated[int, Field(ge=1)]


class BaseCommand(BaseModel):
    """What every command shares: strict, frozen, no unknown fields, tagged by ``op``."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    read_only: ClassVar[bool] = False
    """True for commands that ``WorldState.query`` may answer without the log."""


# -- key-value ------------------------------------------------------------------


class Put(BaseCommand):
    """Set ``key`` to ``value``. Applied(None)."""

    op: Literal["put"] = "put"
    key: Name
    value: Value


class Get(BaseCommand):
    """Read ``key``. Applied(value), or Applied(None) when absent."""

    read_only: ClassVar[bool] = True
    op: Literal["get"] = "get"
    key: Name


class Delete(BaseCommand):
    """Remove ``key``. Applied(True) if it existed, Applied(False) if not."""

    op: Literal["delete"] = "delete"
    key: Name


class Cas(BaseCommand):
    """Set ``key`` to ``new`` if it holds ``expected`` (an absent key holds null).

    Applied(new), or Rejected(cas_mismatch) naming the value it found.
    """

    op: Literal["cas"] = "cas"
    key: Name
    expected: Value
    new: Value


# -- tasks ----------------------------------------------------------------------


class ClaimTask(BaseCommand):
    """Claim ``task`` for ``agent``, for ``lease_s`` seconds of committed time (None: until released).

    Succeeds if nobody holds it, the last claim's lease ran out, or ``agent``
    already holds it (then the lease is refreshed). Applied(task view).

    ``preempt=True`` takes the task over from a live claimant (never after
    completion). It is how a speculative backup replaces a straggler: from
    that entry on the straggler can no longer complete (``not_owner``).
    """

    op: Literal["claim_task"] = "claim_task"
    task: Name
    agent: Name
    lease_s: LeaseSeconds | None = None
    preempt: bool = False


class RenewClaim(BaseCommand):
    """Extend ``agent``'s live claim on ``task`` to ``lease_s`` from now. Applied(task view)."""

    op: Literal["renew_claim"] = "renew_claim"
    task: Name
    agent: Name
    lease_s: LeaseSeconds


class ReleaseTask(BaseCommand):
    """Give up ``agent``'s live claim on ``task``; it becomes open. Applied(task view)."""

    op: Literal["release_task"] = "release_task"
    task: Name
    agent: Name


class CompleteTask(BaseCommand):
    """Mark ``task`` done with ``result``; only its live claimant may, and only once. Applied(task view)."""

    op: Literal["complete_task"] = "complete_task"
    task: Name
    agent: Name
    result: Value = None


class TaskStatusQuery(BaseCommand):
    """Read one task. Applied(task view as JSON), or Applied(None) for a task never claimed."""

    read_only: ClassVar[bool] = True
    op: Literal["task_status"] = "task_status"
    task: Name


class ListTasks(BaseCommand):
    """Read every task (or those with ``status``), sorted by name. Applied(list of task views)."""

    read_only: ClassVar[bool] = True
    op: Literal["list_tasks"] = "list_tasks"
    status: Annotated[TaskStatus | None, Field(strict=False)] = None


# -- locks ----------------------------------------------------------------------


class AcquireLock(BaseCommand):
    """Lock ``resource`` for ``agent`` for ``lease_s`` seconds of committed time.

    Succeeds if nobody holds it or the holder's lease ran out, and then
    issues a fencing token greater than every token issued before, on any
    resource. Applied(lock view, with ``token``), or Rejected(lock_held) -
    also when ``agent`` itself holds it: renew instead, since two
    acquisitions sharing one token could not be told apart by a fence.

    ``preempt=True`` takes the lock even from a live holder, with a new,
    higher token: the old holder's token goes stale, so whatever the lock
    guards refuses its later writes (the fence does the work).
    """

    op: Literal["acquire_lock"] = "acquire_lock"
    resource: Name
    agent: Name
    lease_s: LeaseSeconds
    preempt: bool = False


class RenewLock(BaseCommand):
    """Extend the live lock held with ``token`` to ``lease_s`` from now. Applied(lock view)."""

    op: Literal["renew_lock"] = "renew_lock"
    resource: Name
    agent: Name
    token: Token
    lease_s: LeaseSeconds


class ReleaseLock(BaseCommand):
    """Release the live lock held with ``token``. Applied(lock view as it was)."""

    op: Literal["release_lock"] = "release_lock"
    resource: Name
    agent: Name
    token: Token


class CheckFence(BaseCommand):
    """Is ``token`` the current, unexpired holder's token for ``resource``? Applied(bool)."""

    read_only: ClassVar[bool] = True
    op: Literal["check_fence"] = "check_fence"
    resource: Name
    token: Token


# -- an application's own commands -----------------------------------------------


class Custom(BaseCommand):
    """An application's own command: ``name`` with JSON ``args``.

    Every replica runs it with the handler registered under ``name``
    (``WorldState(custom={name: handler})``); see ``consensus.world.custom``.
    """

    op: Literal["custom"] = "custom"
    name: Name
    args: Value = None


Command = Annotated[
    Union[
        Put,
        Get,
        Delete,
        Cas,
        ClaimTask,
        RenewClaim,
        ReleaseTask,
        CompleteTask,
        TaskStatusQuery,
        ListTasks,
        AcquireLock,
        RenewLock,
        ReleaseLock,
        CheckFence,
        Custom,
    ],
    Field(discriminator="op"),
]
COMMAND: TypeAdapter[Any] = TypeAdapter(Command)


# -- the envelope ---------------------------------------------------------------


class Proposal(BaseModel):
    """One command on its way through the log.

    - ``(client_id, seq)``: the session coordinates. A client numbers its
      proposals 1, 2, 3, ... and retries with the *same* seq, so a retry is
      applied once. ``client_id`` must be unique per client incarnation: a
      restarted agent that counts from 1 again needs a new one.
    - ``ack_below``: the client has received every result below this seq,
      so the machine may forget them (at most ``seq``).
    - ``stamp``: the leader's clock, in seconds, when it proposed. Committed
      time is the largest stamp applied so far, so leases expire the same way
      on every replica.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    client_id: Name
    seq: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    command: Command
    stamp: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    ack_below: Annotated[int, Field(ge=0, le=MAX_SEQ)] = 0

    @model_validator(mode="after")
    def _ack_not_ahead(self) -> Proposal:
        if self.ack_below > self.seq:
            raise ValueError(
                f"ack_below ({self.ack_below}) exceeds seq ({self.seq}): a client cannot have"
                " received the result of a proposal it is still sending"
            )
        return self


def encode_proposal(proposal: Proposal) -> bytes:
    """The proposal as the JSON bytes a Raft entry carries."""
    data = proposal.model_dump_json().encode()
    if len(data) > MAX_PROPOSAL_BYTES:
        raise InvalidCommand(
            f"proposal is {len(data)} bytes, over the {MAX_PROPOSAL_BYTES}-byte limit:"
            " keep large artefacts outside the world state and store a reference"
        )
    return data


def decode_proposal(data: bytes | bytearray | memoryview) -> Proposal:
    """Parse and validate an entry's bytes; raises ``InvalidCommand`` saying what is wrong."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidCommand(f"a proposal is bytes, not {type(data).__name__}")
    if len(data) > MAX_PROPOSAL_BYTES:
        raise InvalidCommand(f"proposal is {len(data)} bytes, over the {MAX_PROPOSAL_BYTES}-byte limit")
    if not len(data):
        raise InvalidCommand("proposal is empty (0 bytes)")
    try:
        return Proposal.model_validate_json(bytes(data))
    except ValidationError as exc:
        raise InvalidCommand(f"invalid proposal: {describe(exc)}") from None


def parse_command(data: bytes | str | Mapping[str, Any]) -> Any:
    """A command from JSON text or a plain mapping (as ``query`` may receive it).

    Returns one of the command models; raises ``InvalidCommand``.
    """
    try:
        if isinstance(data, (bytes, str)):
            return COMMAND.validate_json(data)
        if isinstance(data, Mapping):
            # Through JSON, so the same strict wire rules apply (enums as strings).
            return COMMAND.validate_json(json.dumps(dict(data)))
    except ValidationError as exc:
        raise InvalidCommand(f"invalid command: {describe(exc)}") from None
    except (TypeError, ValueError) as exc:
        raise InvalidCommand(f"invalid command: not JSON-compatible ({exc})") from None
    raise InvalidCommand(f"a command is JSON bytes, text or a mapping, not {type(data).__name__}")


def describe(exc: ValidationError, limit: int = 5) -> str:
    """Every problem in a validation error, as ``where: what (got ...)``, joined by ``; ``."""
    parts = []
    for err in exc.errors(include_url=False)[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        text = f"{where}: {err['msg']}"
        if err["type"] not in ("missing", "json_invalid", "union_tag_not_found", "union_tag_invalid"):
            got = repr(err.get("input"))
            text += f" (got {got if len(got) <= 60 else got[:57] + '...'})"
        parts.append(text)
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
