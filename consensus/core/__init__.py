"""The pure Raft core: no I/O, no clock, no asyncio (etcd's raft library design).

Nothing in this folder imports the node, the clients or the world state.
"""

from lmteams.consensus.core.raft import RaftCore
from lmteams.consensus.core.ready import Ready, Role, SoftState

__all__ = ["RaftCore", "Ready", "Role", "SoftState"]
