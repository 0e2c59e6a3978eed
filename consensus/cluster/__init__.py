"""Assemblies of nodes: ``LocalCluster`` (N nodes in one process) and ``NodeProcess`` (one node of a multi-process cluster)."""

from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.cluster.process import NodeConfig, NodeConfigError, NodeProcess

__all__ = ["LocalCluster", "NodeConfig", "NodeConfigError", "NodeProcess"]
