"""The async node: ``RaftNode`` drives a pure ``RaftCore`` over a transport, a storage and a state machine."""

from lmteams.consensus.node.file_storage import FileStorage
from lmteams.consensus.node.raft_node import RaftNode
from lmteams.consensus.node.state_machine import ReplicatedStateMachine

__all__ = ["FileStorage", "RaftNode", "ReplicatedStateMachine"]
