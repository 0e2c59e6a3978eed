"""The world state: the replicated state machine a team of agents shares through Raft.

An agent acts only on what the log has committed. Shared work goes through
a gate of four committed steps:

1. **claim** the task (``ClaimTask``): one agent wins; the others see
   ``claim_taken``. A claim may carry a lease, so a crashed agent's task
   becomes claimable again once committed time passes it.
2. **lock** what the work touches (``AcquireLock``), which returns a
   **fencing token** higher than any issued before. Whatever the lock guards
   should refuse a token lower than the highest it has seen (or ask
   ``CheckFence``), so an agent that stalled past its lease cannot clobber
   the work of the agent that took over.
3. **act**, with the token.
4. **complete** the task (``CompleteTask``): only the live claimant may,
   and only once; then release the lock.

Each command is wrapped in a ``Proposal`` with ``(client_id, seq)``, so a
retried proposal is applied once, and with the leader's clock ``stamp``,
from which every replica derives the same committed time. ``WorldState``
is the machine: ``apply(entry_bytes)``, ``query(read_command)``,
``snapshot()`` and ``restore(bytes)``.
"""

from lmteams.consensus.world.commands import (
    MAX_LEASE_S,
    MAX_NAME_CHARS,
    MAX_PROPOSAL_BYTES,
    AcquireLock,
    BaseCommand,
    Cas,
    CheckFence,
    ClaimTask,
    Command,
    CompleteTask,
    Custom,
    Delete,
    Get,
    ListTasks,
    Proposal,
    Put,
    ReleaseLock,
    ReleaseTask,
    RenewClaim,
    RenewLock,
    TaskStatusQuery,
    decode_proposal,
    encode_proposal,
    parse_command,
)
from lmteams.consensus.world.custom import CustomContext, CustomHandler, reject
from lmteams.consensus.world.errors import InvalidCommand, NotReadOnly, SnapshotError
from lmteams.consensus.world.machine import DEFAULT_MAX_RESULTS_PER_SESSION, DEFAULT_MAX_SESSIONS, WorldState
from lmteams.consensus.world.results import RESULT, Applied, Rejected, RejectReason, Result
from lmteams.consensus.world.views import LockView, SessionView, TaskStatus, TaskView

__all__ = [
    "DEFAULT_MAX_RESULTS_PER_SESSION",
    "DEFAULT_MAX_SESSIONS",
    "MAX_LEASE_S",
    "MAX_NAME_CHARS",
    "MAX_PROPOSAL_BYTES",
    "RESULT",
    "AcquireLock",
    "Applied",
    "BaseCommand",
    "Cas",
    "CheckFence",
    "ClaimTask",
    "Command",
    "CompleteTask",
    "Custom",
    "CustomContext",
    "CustomHandler",
    "Delete",
    "Get",
    "InvalidCommand",
    "ListTasks",
    "LockView",
    "NotReadOnly",
    "Proposal",
    "Put",
    "RejectReason",
    "Rejected",
    "ReleaseLock",
    "ReleaseTask",
    "RenewClaim",
    "RenewLock",
    "Result",
    "SessionView",
    "SnapshotError",
    "TaskStatus",
    "TaskStatusQuery",
    "TaskView",
    "WorldState",
    "decode_proposal",
    "encode_proposal",
    "parse_command",
    "reject",
]
