"""Public testing kit: a seeded cluster simulator, Raft's invariants and a
linearizability checker. Point them at your own state machine:

- ``Simulation``: N replicas over a lossy simulated network from one seed,
  with ``crash``/``restart``, ``partition``/``heal`` and a client
  ``history``. Pass ``state_machine=YourMachine`` (any class with
  ``apply(command) -> result``).
- ``InvariantViolation``: raised by ``Simulation.check()`` (and after every
  step by default) naming the property, the nodes and the seed.
- ``check_linearizable(history, model)``: Wing & Gong's search with Lowe's
  memoization, split per key by the model. Write a ``Model`` (``init``,
  ``step``, ``partition``) for your machine's sequential behaviour.
"""

from .history import History, Operation
from .invariants import PROPERTIES, InvariantChecker, InvariantViolation
from .simulation import InFlight, Simulation
from .state_machines import KVStateMachine, StateMachine

__all__ = [
    "PROPERTIES",
    "History",
    "InFlight",
    "InvariantChecker",
    "InvariantViolation",
    "KVStateMachine",
    "Operation",
    "Simulation",
    "StateMachine",
]
