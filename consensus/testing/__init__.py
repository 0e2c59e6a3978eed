"""Public testing kit: a seeded cluster simulator, Raft's invariants and a
linearizability checker. Point them at your own state machine:

- ``Simulation``: N replicas over a lossy simulated network from one seed,
  with ``crash``/``restart``, ``partition``/``heal`` and a client
  ``history``. Pass ``state_machine=YourMachine`` (any class whose
  ``apply(command)`` returns a result; commands arrive JSON round-tripped;
  give it ``snapshot()``/``restore(data)`` and set
  ``RaftConfig(snapshot_threshold=...)`` to test log compaction and
  InstallSnapshot too).
- ``InvariantViolation``: raised after any step that breaks a Raft safety
  property (and by ``Simulation.check()``), naming the property, the nodes
  and the seed.
- ``check_linearizable(history, model)``: Wing & Gong's search with Lowe's
  memoization, split into independent parts by the model (per key for
  ``KVModel``). Write a ``Model`` (``init``, ``step``, ``partition``) that
  says what your machine does when operations run one at a time.
- ``run_with_nemesis``: a seeded workload with partitions, crashes and
  restarts, and (``NemesisConfig(membership=...)``) single-server
  membership changes; ``Simulation(voters=...)`` starts some nodes outside
  the configuration, and ``propose_conf_change`` / ``add_node`` change it by
  hand.

See ``examples/testing_kit_bank.py`` for all of it on a user-defined machine.
"""

from lmteams.consensus.testing.history import History, Operation
from lmteams.consensus.testing.invariants import PROPERTIES, InvariantChecker, InvariantViolation
from lmteams.consensus.testing.linearizability import LinearizabilityResult, check_linearizable
from lmteams.consensus.testing.models import UNKNOWN, KVModel, Model, RegisterModel
from lmteams.consensus.testing.nemesis import NemesisConfig, random_membership_change, run_with_nemesis
from lmteams.consensus.testing.simulation import InFlight, Simulation
from lmteams.consensus.testing.state_machines import KVStateMachine, StateMachine

__all__ = [
    "PROPERTIES",
    "UNKNOWN",
    "History",
    "InFlight",
    "InvariantChecker",
    "InvariantViolation",
    "KVModel",
    "KVStateMachine",
    "LinearizabilityResult",
    "Model",
    "NemesisConfig",
    "Operation",
    "RegisterModel",
    "Simulation",
    "StateMachine",
    "check_linearizable",
    "random_membership_change",
    "run_with_nemesis",
]
