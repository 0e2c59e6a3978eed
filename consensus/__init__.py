"""Raft consensus for lmteams: a pure, deterministic core and what drives it.

- ``RaftCore`` (``raft.py``): the protocol, with no I/O, clock or asyncio.
- ``Ready`` (``ready.py``): the work the caller does after each input.
- ``Storage`` / ``MemoryStorage`` (``storage.py``): the durable log the core reads;
  ``FileStorage`` (``file_storage.py``) keeps it on disk with checksums and fsync.
- ``encode`` / ``decode`` (``codec.py``): messages to and from bytes.
- ``consensus.testing``: the seeded simulator, invariant checks and the
  linearizability checker, for this library and for your own state machines.
"""

from .codec import decode, encode
from .config import RaftConfig
from .errors import CompactedError, ConsensusError, DecodeError, NotLeader, ProposalDropped, StorageError
from .file_storage import CorruptHardStateError, CorruptLogError, FileStorage
from .messages import Entry, EntryKind, HardState, Message, MessageType, NodeId
from .raft import RaftCore
from .ready import Ready, Role, SoftState
from .storage import MemoryStorage, Storage

__all__ = [
    "CompactedError",
    "ConsensusError",
    "CorruptHardStateError",
    "CorruptLogError",
    "DecodeError",
    "Entry",
    "EntryKind",
    "FileStorage",
    "HardState",
    "MemoryStorage",
    "Message",
    "MessageType",
    "NodeId",
    "NotLeader",
    "ProposalDropped",
    "RaftConfig",
    "RaftCore",
    "Ready",
    "Role",
    "SoftState",
    "Storage",
    "StorageError",
    "decode",
    "encode",
]
