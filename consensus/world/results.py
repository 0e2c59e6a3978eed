"""What applying a command returns: ``Applied(value)`` or ``Rejected(reason, detail)``.

A rejection is a normal, committed outcome (the claim was taken, the token
was stale), not an error: ``apply`` never raises, and every replica returns
the same rejection for the same entry. ``result.ok`` tells the two apart.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from lmteams.consensus.world.values import Value


class RejectReason(StrEnum):
    """Why a command changed nothing. The ``detail`` beside it says more."""

    INVALID_COMMAND = "invalid_command"
    """The entry is not a valid proposal (bad bytes, unknown op, bad field)."""
    SESSION_EXPIRED = "session_expired"
    """The client's session, or this seq's remembered result, was forgotten."""
    SEQ_REUSED = "seq_reused"
    """This (client_id, seq) was already used for a different command."""
    CAS_MISMATCH = "cas_mismatch"
    """Compare-and-set found a value other than the expected one."""
    UNKNOWN_TASK = "unknown_task"
    """The task has never been claimed."""
    CLAIM_TAKEN = "claim_taken"
    """Another agent holds a live claim on the task."""
    NOT_CLAIMED = "not_claimed"
    """Nobody holds the task (it was released)."""
    NOT_OWNER = "not_owner"
    """The task's claim, or the lock's token, belongs to another agent."""
    ALREADY_COMPLETED = "already_completed"
    """The task was completed; completion happens once."""
    LEASE_EXPIRED = "lease_expired"
    """The agent's own claim or lock lapsed by committed time; acquire it again."""
    LOCK_HELD = "lock_held"
    """The lock is held under a live lease (by another agent, or already by this one)."""
    STALE_TOKEN = "stale_token"
    """The fencing token is not the resource's current one."""
    CUSTOM_REJECTED = "custom_rejected"
    """An application's custom command refused (its handler said why)."""


class Applied(BaseModel):
    """The command took effect (or, for a read, answered) with ``value``."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    ok: Literal[True] = True
    value: Value = None


class Rejected(BaseModel):
    """The command changed nothing, for ``reason``; ``detail`` is for humans."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    ok: Literal[False] = False
    reason: Annotated[RejectReason, Field(strict=False)]
    detail: str


Result = Annotated[Applied | Rejected, Field(discriminator="ok")]
RESULT: TypeAdapter[Applied | Rejected] = TypeAdapter(Result)
