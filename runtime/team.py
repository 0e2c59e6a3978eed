"""``Team``: agents on a Raft-replicated world state, as one async context manager.

::

    async with Team(size=3, model=SimulatedModel(seed=1), topology="decentralized") as team:
        report = await team.run(graph)

The team starts ``replicas`` Raft voters (a ``LocalCluster``) when it is
entered, and for each run an agent network (memory or TCP on loopback) and
``size`` agents, each an anyio task with a mailbox. ``world`` builds each
replica's state machine: a ``WorldState`` (the default), perhaps with an
application's own commands. Agent ``a<i>`` for
``i <= replicas`` lives on node ``n<i>``: ``crash_node`` takes both down.
Nothing is global: no signal handlers, no logging configuration, and
cancelling the caller cancels every task the team started.
"""

from __future__ import annotations

import random
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Literal

import anyio
import structlog

from lmteams.consensus import ConsensusError, RaftConfig
from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.node.state_machine import ReplicatedStateMachine
from lmteams.runtime.agent import Agent
from lmteams.runtime.events import EventHub, RunEvents
from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.messaging import Mailbox
from lmteams.runtime.models.base import Model
from lmteams.runtime.report import GraphFigures, RunReport, RunStatus
from lmteams.runtime.resilience import Budget, CircuitBreaker, ResilientModel, Retry
from lmteams.runtime.run_state import RunContext
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.topologies import (
    LockStep,
    Topology,
    run_decentralized,
    run_orchestrator,
    run_preassigned,
    run_worker,
)
from lmteams.runtime.workspace import Workspace
from lmteams.transports import MemoryNetwork, TcpTransport, Transport

log = structlog.get_logger(__name__)

LOOPBACK = "127.0.0.1"


class TeamError(Exception):
    """The team was set up or used wrongly (bad size, run outside ``async with``...)."""


class Team:
    def __init__(
        self,
        size: int = 3,
        model: Model | None = None,
        topology: Topology | str = Topology.DECENTRALIZED,
        *,
        transport: Literal["memory", "tcp"] = "memory",
        replicas: int = 3,
        seed: int = 0,
        workspace: Path | str | None = None,
        settings: TeamSettings | None = None,
        budget: Budget | None = None,
        runs_dir: Path | str | None = "runs",
        raft_config: RaftConfig | None = None,
        tick_interval: float = 0.005,
        agent_class: type[Agent] = Agent,
        world: Callable[[], ReplicatedStateMachine] | None = None,
        secret: bytes = b"lmteams-agents",
    ) -> None:
        try:
            self.topology = Topology(topology)
        except ValueError:
            raise TeamError(f"unknown topology {topology!r}: choose one of {[t.value for t in Topology]}") from None
        if size < 1:
            raise TeamError(f"a team needs at least one agent, got size={size}")
        if self.topology is Topology.SINGLE and size != 1:
            raise TeamError(f"the single topology runs one agent, got size={size}: use size=1 or another topology")
        if not 1 <= replicas <= 7:
            raise TeamError(f"replicas must be between 1 and 7 (3 or 5 are usual), got {replicas}")
        if transport not in ("memory", "tcp"):
            raise TeamError(f"transport must be 'memory' or 'tcp', got {transport!r}")
        if model is None:
            from lmteams.runtime.models import SimulatedModel

            model = SimulatedModel(seed=seed)
        self.size = size
        self.model = model
        self.transport = transport
        self.replicas = replicas
        self.seed = seed
        self.settings = settings or TeamSettings()
        self.budget = budget
        self.runs_dir = None if runs_dir is None else Path(runs_dir)
        self.raft_config = raft_config
        self.tick_interval = tick_interval
        self.agent_class = agent_class
        self.world = world
        self.secret = secret
        self.agent_ids = [f"a{i}" for i in range(1, size + 1)]
        self.rng = random.Random(seed)
        self.cluster: LocalCluster | None = None
        self.hub = EventHub()
        self._workspace_root = None if workspace is None else Path(workspace)
        self._stack: AsyncExitStack | None = None
        self._scopes: dict[str, anyio.CancelScope] = {}
        self._runs = 0

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Team:
        self._stack = AsyncExitStack()
        await self._stack.__aenter__()
        try:
            if self._workspace_root is None:
                tmp = tempfile.mkdtemp(prefix="lmteams-workspace-")
                self._stack.callback(shutil.rmtree, tmp, True)
                self._workspace_root = Path(tmp)
            self.cluster = await self._stack.enter_async_context(
                LocalCluster(
                    self.replicas,
                    seed=self.seed,
                    transport=self.transport,
                    config=self.raft_config,
                    tick_interval=self.tick_interval,
                    state_machine=self.world,
                )
            )
            await self.cluster.wait_for_leader(timeout=10.0)
        except BaseException:
            await self._stack.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        assert self._stack is not None
        self.hub.close()
        return await self._stack.__aexit__(*exc_info)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every event of this team's runs from now on, as it happens, until the team closes."""
        async for event in self.hub.subscribe():
            yield event

    # -- faults -----------------------------------------------------------------------

    async def crash_node(self, node_id: str) -> None:
        """Kill consensus node ``node_id`` and every agent living on it."""
        cluster = self._require_cluster()
        await cluster.crash(node_id)
        for agent_id, scope in list(self._scopes.items()):
            if self._node_of(agent_id) == node_id:
                scope.cancel()

    def crash_agent(self, agent_id: str) -> None:
        """Kill one agent mid-run; its claims and locks stay until their leases run out."""
        scope = self._scopes.get(agent_id)
        if scope is None:
            raise TeamError(f"agent {agent_id!r} is not running (running: {sorted(self._scopes)})")
        scope.cancel()

    # -- running a graph ------------------------------------------------------------------

    async def run(self, graph: TaskGraph, *, timeout: float | None = None) -> RunReport:
        """Run every task of ``graph`` once, through the consensus gate; return the report."""
        cluster = self._require_cluster()
        self._runs += 1
        # Unique across processes, so runs/<id>/ never mixes two runs' events.
        run_id = f"run-{time.strftime('%Y%m%d-%H%M%S')}-s{self.seed}-{self._runs}-{secrets.token_hex(3)}"
        assert self._workspace_root is not None
        workspace = Workspace(self._workspace_root / run_id)
        _install_tests(graph, workspace)
        events_path = None if self.runs_dir is None else self.runs_dir / run_id / "events.jsonl"
        events = RunEvents(run_id, events_path, hub=self.hub)
        ctx = RunContext(run_id, graph, workspace, events, self.settings)
        events.emit(
            "run_start",
            topology=self.topology.value,
            agents=self.size,
            replicas=self.replicas,
            transport=self.transport,
            model=self.model.name,
            tasks=len(graph.tasks),
            workspace=str(workspace.root),
        )
        models: list[ResilientModel] = []
        started = time.monotonic()
        try:
            with anyio.move_on_after(timeout) as deadline:
                async with anyio.create_task_group() as tg:
                    roles = self._roles(graph)
                    transports = await self._agent_transports(tg, list(roles))
                    for agent_id, loop in roles.items():
                        mailbox = Mailbox(
                            agent_id,
                            transports[agent_id],
                            list(roles),
                            sent=ctx.metrics.messages,
                            on_event=events.sink(),
                        )
                        model = self._resilient(agent_id, events)
                        models.append(model)
                        agent = self.agent_class(agent_id, ctx, cluster.client(), mailbox, model)
                        tg.start_soon(self._agent_task, agent, loop)
                    tg.start_soon(self._watch_leader, ctx)
                    tg.start_soon(self._watch_agents, ctx, [a for a in roles if not a.startswith("orch-")])
                    await ctx.ended.wait()
                    tg.cancel_scope.cancel()
            if deadline.cancelled_caught:
                ctx.end(RunStatus.CANCELLED, f"the run did not finish within {timeout}s")
        finally:
            self._scopes.clear()
            wall = time.monotonic() - started
            report = self._report(ctx, wall, models, events_path)
            events.emit("report", **report.model_dump(mode="json", exclude={"graph"}))
            events.close()
        return report

    # -- inside a run -------------------------------------------------------------------------

    def _roles(self, graph: TaskGraph) -> dict[str, Callable[[Agent], Awaitable[None]]]:
        """What each agent (and, for centralized, each orchestrator) runs."""
        if self.topology in (Topology.SINGLE, Topology.DECENTRALIZED):
            return {a: run_decentralized for a in self.agent_ids}
        if self.topology is Topology.ROUNDS:
            return dict.fromkeys(self.agent_ids, LockStep(self.agent_ids).run)
        if self.topology is Topology.PREASSIGNED:
            plan = graph.best_schedule(self.size, seed=self.seed).agents
            return {a: (lambda agent, p=plan[i]: run_preassigned(agent, p)) for i, a in enumerate(self.agent_ids)}
        roles: dict[str, Callable[[Agent], Awaitable[None]]] = {
            a: (lambda agent: run_worker(agent, self._orchestrator_id)) for a in self.agent_ids
        }
        for node in self._require_cluster().ids:
            roles[f"orch-{node}"] = lambda agent, n=node: run_orchestrator(
                agent, lambda: self._leads(n), list(self.agent_ids)
            )
        return roles

    def _orchestrator_id(self) -> str | None:
        leader = self._require_cluster().leader()
        return None if leader is None else f"orch-{leader}"

    def _leads(self, node_id: str) -> bool:
        node = self._require_cluster().nodes.get(node_id)
        return node is not None and node.is_leader

    def _node_of(self, agent_id: str) -> str | None:
        if agent_id.startswith("orch-"):
            return agent_id[len("orch-") :]
        index = int(agent_id[1:])
        return f"n{index}" if index <= self.replicas else None

    async def _agent_task(self, agent: Agent, loop: Callable[[Agent], Awaitable[None]]) -> None:
        with anyio.CancelScope() as scope:
            self._scopes[agent.id] = scope
            async with anyio.create_task_group() as tg:
                tg.start_soon(agent.mailbox.receive_loop)
                while not agent.ctx.ended.is_set():
                    try:
                        await loop(agent)
                    except ConsensusError as exc:  # no leader for a while: wait and look again
                        agent.ctx.events.emit("consensus_unavailable", agent=agent.id, error=str(exc))
                        await anyio.sleep(agent.ctx.settings.poll_s)
                tg.cancel_scope.cancel()
        if scope.cancel_called and not agent.ctx.ended.is_set():
            agent.ctx.events.emit("agent_crash", agent=agent.id)
        self._scopes.pop(agent.id, None)

    async def _watch_leader(self, ctx: RunContext) -> None:
        cluster = self._require_cluster()
        leader = cluster.leader()
        ctx.events.emit("leader", node=leader)
        while True:
            await anyio.sleep(self.tick_interval * 4)
            now = cluster.leader()
            if now != leader and now is not None:
                ctx.metrics.leader_changes += 1
                ctx.events.emit("leader_change", old=leader, new=now)
                leader = now

    async def _watch_agents(self, ctx: RunContext, workers: list[str]) -> None:
        await anyio.sleep(0)
        while True:
            await anyio.sleep(ctx.settings.poll_s)
            if not any(w in self._scopes for w in workers):
                ctx.end(RunStatus.FAILED, "every agent crashed before the graph was done")
                return

    async def _agent_transports(self, tg: Any, ids: list[str]) -> dict[str, Transport]:
        """One started transport per agent (and orchestrator) id, wired to all the others."""
        if self.transport == "memory":
            network = MemoryNetwork(seed=self.seed + self._runs)
            endpoints: dict[str, Transport] = {a: network.endpoint(a) for a in ids}
        else:
            endpoints = {
                a: TcpTransport(a, (LOOPBACK, 0), {p: None for p in ids if p != a}, secret=self.secret, seed=self.seed)
                for a in ids
            }
        for t in endpoints.values():
            await _enter_in(tg, t)
        if self.transport == "tcp":
            for a, t in endpoints.items():
                for b, other in endpoints.items():
                    if a != b:
                        t.set_peer(b, other.listen_address)  # type: ignore[attr-defined]
        return endpoints

    def _resilient(self, agent_id: str, events: RunEvents) -> ResilientModel:
        s = self.settings
        sink = events.sink(agent=agent_id)
        return ResilientModel(
            self.model,
            retry=Retry(
                max_attempts=s.retry_attempts,
                base_delay=s.retry_base_s,
                max_delay=s.retry_max_s,
                max_total_s=s.retry_total_s,
                seed=self.rng.getrandbits(32),
                on_event=sink,
            ),
            breaker=CircuitBreaker(
                failure_threshold=s.breaker_threshold, reset_timeout=s.breaker_reset_s, name=agent_id, on_event=sink
            ),
            timeout=s.call_timeout_s,
            budget=self.budget,
            on_event=sink,
        )

    def _report(
        self, ctx: RunContext, wall: float, models: list[ResilientModel], events_path: Path | None
    ) -> RunReport:
        m, graph, n = ctx.metrics, ctx.graph, self.size
        bound = graph.bound(n)
        done = sum(1 for c in m.completions.values() if c)
        finishes = list(m.last_finish.values())
        status = ctx.status or RunStatus.CANCELLED
        return RunReport(
            run_id=ctx.run_id,
            status=status,
            detail=ctx.detail,
            topology=self.topology.value,
            agents=n,
            replicas=self.replicas,
            transport=self.transport,
            model=self.model.name,
            seed=self.seed,
            wall_s=wall,
            tasks_total=len(graph.tasks),
            tasks_done=done,
            tasks_failed=len(graph.tasks) - done,
            tests_passed=m.tests_passed,
            tests_failed=m.tests_failed,
            attempts=m.attempts,
            backups=m.backups,
            tokens_in=m.tokens_in,
            tokens_out=m.tokens_out,
            cost_usd=m.cost_usd,
            model_calls=m.model_calls,
            messages=dict(sorted(m.messages.items())),
            conflicts_rejected=dict(sorted(m.conflicts.items())),
            fenced_writes=ctx.workspace.fenced_writes,
            concurrent_writes=ctx.workspace.concurrent_writes,
            retries=sum(x.retry.retries for x in models if x.retry is not None),
            breaker_trips=sum(x.breaker.trips for x in models if x.breaker is not None),
            parse_repairs=m.parse_repairs + ctx.events.counts["parse_retry"],
            leader_changes=m.leader_changes,
            idle_agent_s=max(0.0, sum(wall - m.busy_s[a] for a in self.agent_ids)),
            straggler_gap_s=(max(finishes) - min(finishes)) if finishes else 0.0,
            graph=GraphFigures(
                tasks=len(graph.tasks),
                work=graph.work(),
                critical_path=graph.critical_path(),
                critical_path_length=graph.critical_path_length(),
                parallel_fraction=graph.parallel_fraction(),
                amdahl_bound=graph.amdahl(n),
                schedule_bound=bound.speedup,
            ),
            events_path=None if events_path is None else str(events_path),
        )

    def _require_cluster(self) -> LocalCluster:
        if self.cluster is None:
            raise TeamError("the team is not running: use it as `async with Team(...) as team:`")
        return self.cluster


def _install_tests(graph: TaskGraph, workspace: Workspace) -> None:
    """Copy every task's acceptance tests into the workspace; agents never write tests."""
    for task in graph.tasks:
        for test in task.tests:
            if graph.base_dir is None:
                raise TeamError(
                    f"task {task.id!r} has tests but the graph was not loaded from a file, so they cannot be found:"
                    " load it with TaskGraph.from_file"
                )
            source = graph.base_dir / test
            if not source.is_file():
                raise TeamError(
                    f"task {task.id!r} names test file {test!r}, which does not exist under {graph.base_dir}"
                )
            target = workspace.path(test)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


async def _enter_in(tg: Any, transport: Transport) -> None:
    """Run ``async with transport`` inside ``tg`` until the task group is cancelled."""

    async def hold(*, task_status: Any) -> None:
        async with transport:
            task_status.started()
            await anyio.sleep_forever()

    await tg.start(hold)
