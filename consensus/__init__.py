"""Raft consensus for lmteams, in layers (each folder imports only those above it):

- ``core/``: the pure protocol, ``RaftCore`` (``raft.py``) with ``Ready``, the
  log, progress, quorum arithmetic, ReadIndex, membership, ``RaftConfig`` and the
  ``Storage`` protocol with ``MemoryStorage``. No I/O, clock or asyncio.
- ``node/``: ``RaftNode``, the async driver of one core over a transport, a
  storage and a state machine; ``FileStorage`` (checksums, fsync, group commit);
  the message codec and the entry data format.
- ``client/``: ``SessionClient`` (leader finding, retries, ``(client_id, seq)``
  sessions) for any state machine, ``NodeClient`` in process with a codec such
  as ``JsonSessions``; for the world state, ``Client`` in process and
  ``RemoteClient`` over TCP with the client protocol that ``ClientServer`` answers.
- ``world/``: ``WorldState``, the team's replicated state machine.
- ``cluster/``: ``LocalCluster`` (N nodes in one process) and ``NodeProcess``
  (one node of a multi-process cluster, as ``lmteams node`` runs it).
- ``testing/``: the seeded simulator, invariant checks and the linearizability
  checker, for this library and for your own state machines.
"""

from lmteams.consensus.client.protocol import NodeStatus, ServerError
from lmteams.consensus.client.remote import RemoteClient
from lmteams.consensus.client.server import ClientServer
from lmteams.consensus.client.session import (
    ClientTimeout,
    JsonSessions,
    NodeClient,
    NodeUnreachable,
    SessionClient,
    SessionCodec,
    SessionCommand,
)
from lmteams.consensus.client.world import Client, CommandRejected
from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.cluster.process import NodeConfig, NodeConfigError, NodeProcess
from lmteams.consensus.core.config import RaftConfig
from lmteams.consensus.core.membership import ConfChange, ConfChangeOp, Membership
from lmteams.consensus.core.messages import (
    Entry,
    EntryKind,
    HardState,
    Message,
    MessageType,
    NodeId,
    Snapshot,
    SnapshotMeta,
)
from lmteams.consensus.core.raft import RaftCore
from lmteams.consensus.core.ready import Ready, Role, SoftState
from lmteams.consensus.core.storage import MemoryStorage, Storage
from lmteams.consensus.errors import (
    CompactedError,
    ConfChangeInProgress,
    ConfChangeRejected,
    ConfChangeTooEarly,
    ConsensusError,
    DecodeError,
    InvalidConfChange,
    NotLeader,
    ProposalDropped,
    ProposalOutcomeUnknown,
    StorageError,
)
from lmteams.consensus.node.codec import decode, encode
from lmteams.consensus.node.file_storage import (
    CorruptHardStateError,
    CorruptLogError,
    CorruptSnapshotError,
    FileStorage,
)
from lmteams.consensus.node.raft_node import RaftNode
from lmteams.consensus.world import WorldState

__all__ = [
    "Client",
    "ClientServer",
    "ClientTimeout",
    "CommandRejected",
    "CompactedError",
    "ConfChange",
    "ConfChangeInProgress",
    "ConfChangeOp",
    "ConfChangeRejected",
    "ConfChangeTooEarly",
    "ConsensusError",
    "CorruptHardStateError",
    "CorruptLogError",
    "CorruptSnapshotError",
    "DecodeError",
    "Entry",
    "EntryKind",
    "FileStorage",
    "HardState",
    "InvalidConfChange",
    "JsonSessions",
    "LocalCluster",
    "Membership",
    "MemoryStorage",
    "Message",
    "MessageType",
    "NodeClient",
    "NodeConfig",
    "NodeConfigError",
    "NodeId",
    "NodeProcess",
    "NodeStatus",
    "NodeUnreachable",
    "NotLeader",
    "ProposalDropped",
    "ProposalOutcomeUnknown",
    "RaftConfig",
    "RaftCore",
    "RaftNode",
    "Ready",
    "RemoteClient",
    "Role",
    "ServerError",
    "SessionClient",
    "SessionCodec",
    "SessionCommand",
    "Snapshot",
    "SnapshotMeta",
    "SoftState",
    "Storage",
    "WorldState",
    "StorageError",
    "decode",
    "encode",
]
