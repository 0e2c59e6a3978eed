"""Raft consensus for lmteams: a pure, deterministic core and what drives it.

- ``RaftCore`` (``raft.py``): the protocol, with no I/O, clock or asyncio.
- ``Ready`` (``ready.py``): the work the caller does after each input.
- ``Storage`` / ``MemoryStorage`` (``storage.py``): the durable log (and the
  snapshot it is compacted behind) the core reads; ``FileStorage``
  (``file_storage.py``) keeps them on disk with checksums and fsync.
- ``Membership`` / ``ConfChange`` (``membership.py``): configurations of voters
  and learners, and the single-server changes between them.
- ``encode`` / ``decode`` (``codec.py``): messages to and from bytes.
- ``consensus.testing``: the seeded simulator, invariant checks and the
  linearizability checker, for this library and for your own state machines.
- Clients (``client.py``): ``SessionClient`` holds the leader-finding, retry and
  ``(client_id, seq)`` session logic; ``Client`` calls an in-process
  ``LocalCluster``, ``RemoteClient`` (``remote_client.py``) calls node processes
  over TCP with the client protocol (``client_protocol.py``), which
  ``ClientServer`` (``client_server.py``) answers.
- ``NodeProcess`` / ``NodeConfig`` (``process.py``): one node of a multi-process
  cluster (RaftNode + FileStorage + WorldState + TcpTransport), as ``lmteams node`` runs it.
"""

from .client import Client, ClientTimeout, CommandRejected, NodeUnreachable, SessionClient
from .client_protocol import NodeStatus, ServerError
from .client_server import ClientServer
from .codec import decode, encode
from .config import RaftConfig
from .errors import (
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
from .file_storage import CorruptHardStateError, CorruptLogError, CorruptSnapshotError, FileStorage
from .membership import ConfChange, ConfChangeOp, Membership
from .messages import Entry, EntryKind, HardState, Message, MessageType, NodeId, Snapshot, SnapshotMeta
from .process import NodeConfig, NodeConfigError, NodeProcess
from .raft import RaftCore
from .ready import Ready, Role, SoftState
from .remote_client import RemoteClient
from .storage import MemoryStorage, Storage

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
    "Membership",
    "MemoryStorage",
    "Message",
    "MessageType",
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
    "Ready",
    "RemoteClient",
    "Role",
    "ServerError",
    "SessionClient",
    "Snapshot",
    "SnapshotMeta",
    "SoftState",
    "Storage",
    "StorageError",
    "decode",
    "encode",
]
