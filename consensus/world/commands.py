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
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

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

from lmteams.consensus.world.errors import InvalidCommand
from lmteams.consensus.world.values import Value
from lmteams.consensus.world.views import TaskStatus

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
    Put
    | Get
    | Delete
    | Cas
    | ClaimTask
    | RenewClaim
    | ReleaseTask
    | CompleteTask
    | TaskStatusQuery
    | ListTasks
    | AcquireLock
    | RenewLock
    | ReleaseLock
    | CheckFence
    | Custom,
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
    return _within_limit(proposal.model_dump_json().encode())


def _within_limit(data: bytes) -> bytes:
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


# -- the common proposal without pydantic ------------------------------------------
# A client's ``Put`` of a plain string is most of the log, and pydantic's validation and JSON work
# dominate its cost. ``client_proposal`` and ``decode_plain_put`` handle exactly that case, and only
# where the result is provably what the model gives (the same object, the same bytes, the same
# acceptance); everything else takes the model's path. A *plain* string is printable ASCII without
# ``"`` or ``\``: its JSON text, pydantic's and the canonical one alike, is itself in quotes.

_PLAIN_CHARS = r"[ !#-\[\]-~]"
_PLAIN_BYTES = bytes(c for c in range(128) if re.fullmatch(_PLAIN_CHARS, chr(c)))
_PLAIN_PUT = '{"client_id":"%s","seq":%s,"command":{"op":"put","key":"%s","value":"%s"},"stamp":0.0,"ack_below":%s}'
"""What ``model_dump_json`` writes for such a proposal (field order, no spaces, ``stamp`` 0.0 as clients send it)."""
_PLAIN_PUT_QUOTES = b'"' * _PLAIN_PUT.count('"')
_NAME_RE = rf'((?! *"){_PLAIN_CHARS}{{1,{MAX_NAME_CHARS}}})'  # 1..256 characters, not all spaces
_SEQ_RE, _ACK_RE = r"([1-9][0-9]{0,17})", r"(0|[1-9][0-9]{0,17})"  # 18 digits stay below MAX_SEQ
_PLAIN_PUT_RE = re.compile(  # the same layout, each %s replaced by its field's pattern
    "".join(
        re.escape(fixed) + field
        for fixed, field in zip(
            _PLAIN_PUT.split("%s"), (_NAME_RE, _SEQ_RE, _NAME_RE, f"({_PLAIN_CHARS}*)", _ACK_RE, "")
        )
    )
)
_PUT_FIELDS_SET = frozenset(("op", "key", "value"))
_PROPOSAL_FIELDS_SET = frozenset(Proposal.model_fields)
_new, _setattr = object.__new__, object.__setattr__


def _trusted(cls: type[BaseModel], fields: dict[str, Any], fields_set: frozenset[str]) -> Any:
    """``cls.model_construct(**fields)`` (fields in declaration order, already valid) at a fraction of its cost."""
    obj = _new(cls)
    _setattr(obj, "__dict__", fields)
    _setattr(obj, "__pydantic_fields_set__", set(fields_set))
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None)
    return obj


def client_proposal(client_id: str, seq: int, command: Any, ack_below: int) -> tuple[Proposal, bytes]:
    """``Proposal(client_id=..., seq=..., command=..., stamp=0.0, ack_below=...)`` and its `encode_proposal` bytes.

    Raises what those raise. A ``Put`` of plain strings under a plain ``client_id`` is built and
    written without pydantic (the model keeps a command instance as it is, without revalidating it).
    """
    if (
        type(command) is Put
        and type(client_id) is str
        and type(seq) is int
        and type(ack_below) is int
        and 0 <= ack_below <= seq
        and 1 <= seq <= MAX_SEQ
        and len(client_id) <= MAX_NAME_CHARS
        and client_id.strip()  # also not empty
    ):
        fields = command.__dict__
        key, value = fields.get("key"), fields.get("value")
        if fields.get("op") == "put" and type(key) is str and type(value) is str:
            text = _PLAIN_PUT % (client_id, seq, key, value, ack_below)
            if text.isascii():
                data = text.encode()
                if data.translate(None, _PLAIN_BYTES) == _PLAIN_PUT_QUOTES:  # no string needs escaping
                    proposal = _trusted(
                        Proposal,
                        {"client_id": client_id, "seq": seq, "command": command, "stamp": 0.0, "ack_below": ack_below},
                        _PROPOSAL_FIELDS_SET,
                    )
                    return proposal, _within_limit(data)
    proposal = Proposal(client_id=client_id, seq=seq, command=command, stamp=0.0, ack_below=ack_below)
    return proposal, encode_proposal(proposal)


def decode_plain_put(data: bytes) -> tuple[str, int, int, Put, str, str] | None:
    """An entry as `client_proposal` writes a plain ``Put``, decoded without pydantic, else None.

    ``(client_id, seq, ack_below, command, key_json, value_json)``, the last two the JSON texts of
    the key and the value; the proposal's stamp is 0.0. Only bytes that `decode_proposal` accepts
    match, and it would give the same fields; None sends everything else to it.
    """
    if type(data) is not bytes or len(data) > MAX_PROPOSAL_BYTES:
        return None
    m = _PLAIN_PUT_RE.fullmatch(data.decode("latin-1"))  # the pattern admits ASCII only
    if m is None:
        return None
    client_id, seq_text, key, value, ack_text = m.groups()
    seq, ack_below = int(seq_text), int(ack_text)
    if ack_below > seq:
        return None  # decode_proposal says why
    command = _trusted(Put, {"op": "put", "key": key, "value": value}, _PUT_FIELDS_SET)
    return client_id, seq, ack_below, command, f'"{key}"', f'"{value}"'


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
        if len(where) > 60:  # a deeply nested value: its path alone could be thousands of characters
            where = f"{where[:40]}...({len(err['loc'])} levels deep)"
        text = f"{where}: {err['msg']}"
        if err["type"] not in ("missing", "json_invalid", "union_tag_not_found", "union_tag_invalid"):
            got = repr(err.get("input"))
            text += f" (got {got if len(got) <= 60 else got[:57] + '...'})"
        parts.append(text)
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
