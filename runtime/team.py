"""``Team``: agents on a Raft-replicated world state, as one async context manager.

::

    async with Team(size=3, work=my_work) as team:
        report = await team.run(graph)

The team starts ``replicas`` Raft voters (a ``LocalCluster``) when it is
entered, and for each run an agent network (memory or TCP on loopback) and
``size`` agents, each an anyio task with a ``Messenger``. ``work`` is the
work function of every task, or a mapping from task ``kind`` to one (a task
without a kind uses the ``"default"`` entry); without it the team runs the
built-in coding kind. ``world`` builds each replica's state machine: a
``WorldState`` (the default), perhaps with an application's own commands.
The i-th agent lives on the i-th consensus node while there is one:
``crash_node`` takes both down.
Nothing is global: no signal handlers, no logging configuration, and
cancelling the caller cancels every task the team started.
"""

from __future__ import annotations

import functools
import random
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Literal, TypeAlias

import anyio
import structlog
from pydantic import BaseModel

from lmteams.consensus import ConsensusError, RaftConfig
from lmteams.consensus.cluster.local import LocalCluster
from lmteams.consensus.node.state_machine import ReplicatedStateMachine
from lmteams.runtime.agent import Agent, Member
from lmteams.runtime.events import EventHub, RunEvents
from lmteams.runtime.graph import Task, TaskGraph
from lmteams.runtime.identity import AgentId, Role
from lmteams.runtime.messaging import Messenger
from lmteams.runtime.models.base import Model
from lmteams.runtime.report import GraphFigures, RunReport, RunStatus
from lmteams.runtime.resilience import Budget, CircuitBreaker, ResilientModel, Retry
from lmteams.runtime.run_state import CommittedView, RunContext
from lmteams.runtime.settings import TeamSettings
from lmteams.runtime.topologies import (
    LockStep,
    Topology,
    run_decentralized,
    run_orchestrator,
    run_preassigned,
    run_worker,
)
from lmteams.runtime.work.context import WorkFn
from lmteams.transports import MemoryNetwork, TcpTransport, Transport

log = structlog.get_logger(__name__)

LOOPBACK = "127.0.0.1"
DEFAULT_KIND = "default"
"""The work mapping's entry for tasks without a ``kind``."""

Work: TypeAlias = WorkFn | Mapping[str, WorkFn]
MessageHandler: TypeAlias = Callable[[Any, str], Awaitable[BaseModel | None]]
Loop: TypeAlias = Callable[[Any], Awaitable[None]]


class TeamError(Exception):
    """The team was set up or used wrongly (bad size, run outside ``async with``...)."""


def default_work() -> dict[str, WorkFn]:
    """A team given no work runs the built-in coding kind (files and tests) for every task."""
    from lmteams.runtime.work.coding import CodingWork

    coding = CodingWork()
    return {DEFAULT_KIND: coding, "coding": coding}


def default_model(work: Mapping[str, WorkFn], seed: int) -> Model:
    """The model of a team given none: the LLM work kind's scripted simulator when it runs LLM work.

    The one hook between the team and the LLM work kind (``lmteams.runtime.work.llm``), imported
    only when a work function comes from that module.
    """
    llm_module = "lmteams.runtime.work.llm"
    if any(
        getattr(fn, "__module__", "").startswith(llm_module) or type(fn).__module__.startswith(llm_module)
        for fn in work.values()
    ):
        from lmteams.runtime.work.llm import default_llm_model

        model: Model = default_llm_model(seed)
        return model
    from lmteams.runtime.models import SimulatedModel

    return SimulatedModel(seed=seed)


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
        work: Work | None = None,
        handlers: Mapping[type[BaseModel], MessageHandler] | None = None,
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
        if work is None:
            self.work: dict[str, WorkFn] = default_work()
        elif isinstance(work, Mapping):
            self.work = dict(work)
        elif callable(work):
            self.work = {DEFAULT_KIND: work}
        else:
            raise TeamError(f"work must be an async function (task, ctx) or a mapping kind -> function, got {work!r}")
        if model is None:
            model = default_model(self.work, seed)
        self.handlers = dict(handlers or {})
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
        self.world = world
        self.secret = secret
        self.rng = random.Random(seed)
        self.cluster: LocalCluster | None = None
        self.hub = EventHub()
        self._workspace_root = None if workspace is None else Path(workspace)
        self._stack: AsyncExitStack | None = None
        self._scopes: dict[AgentId, anyio.CancelScope] = {}
        self._runs = 0

    # -- lifecycle -------------------------------------------------------------------

    @asynccontextmanager
    async def _lifetime(self) -> AsyncIterator[None]:
        """The team's resources, from entry to exit: a workspace root, the consensus cluster, the event hub."""
        async with AsyncExitStack() as stack:
            stack.callback(self.hub.close)
            if self._workspace_root is None:
                tmp = tempfile.mkdtemp(prefix="lmteams-workspace-")
                stack.callback(setattr, self, "_workspace_root", None)
                stack.callback(shutil.rmtree, tmp, True)
                self._workspace_root = Path(tmp)
            stack.callback(setattr, self, "cluster", None)
            cluster = await stack.enter_async_context(
                LocalCluster(
                    self.replicas,
                    seed=self.seed,
                    transport=self.transport,
                    config=self.raft_config,
                    tick_interval=self.tick_interval,
                    state_machine=self.world,
                )
            )
            self.cluster = cluster
            await cluster.wait_for_leader(timeout=10.0)
            yield

    async def __aenter__(self) -> Team:
        stack = AsyncExitStack()
        await stack.enter_async_context(self._lifetime())
        self._stack = stack
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every event of this team's runs from now on, as it happens, until the team closes."""
        async for event in self.hub.subscribe():
            yield event

    # -- faults -----------------------------------------------------------------------

    async def crash_node(self, node_id: str) -> None:
        """Kill consensus node ``node_id`` and every agent living on it."""
        cluster = self._require_cluster()
        await cluster.crash(node_id)
        for ident, scope in list(self._scopes.items()):
            if ident.node == node_id:
                scope.cancel()

    def crash_agent(self, agent_id: str) -> None:
        """Kill one agent mid-run; its claims and locks stay until their leases run out."""
        scope = next((sc for ident, sc in self._scopes.items() if ident.name == agent_id), None)
        if scope is None:
            running = sorted(ident.name for ident in self._scopes)
            raise TeamError(f"agent {agent_id!r} is not running (running: {running})")
        scope.cancel()

    # -- running a graph ------------------------------------------------------------------

    async def run(self, graph: TaskGraph, *, timeout: float | None = None) -> RunReport:
        """Run every task of ``graph`` once, through the consensus gate; return the report."""
        cluster = self._require_cluster()
        self._check_kinds(graph)
        self._runs += 1
        # Unique across processes, so runs/<id>/ never mixes two runs' events.
        run_id = f"run-{time.strftime('%Y%m%d-%H%M%S')}-s{self.seed}-{self._runs}-{secrets.token_hex(3)}"
        assert self._workspace_root is not None
        workdir = self._workspace_root / run_id
        workdir.mkdir(parents=True, exist_ok=True)
        kinds = list({id(fn): fn for fn in self.work.values()}.values())
        for fn in kinds:
            prepare = getattr(fn, "prepare", None)
            if prepare is not None:
                try:
                    prepare(graph, workdir)
                except (OSError, ValueError) as exc:
                    raise TeamError(f"cannot prepare the run's work: {exc}") from exc
        events_path = None if self.runs_dir is None else self.runs_dir / run_id / "events.jsonl"
        events = RunEvents(run_id, events_path, hub=self.hub)
        ctx = RunContext(run_id, graph, workdir, events, self.settings)
        events.emit(
            "run_start",
            topology=self.topology.value,
            agents=self.size,
            replicas=self.replicas,
            transport=self.transport,
            model=self.model.name,
            tasks=len(graph.tasks),
            workspace=str(workdir),
        )
        models: list[ResilientModel] = []
        started = time.monotonic()
        try:
            with anyio.move_on_after(timeout) as deadline:
                async with anyio.create_task_group() as tg:
                    roles = self._roles(graph, cluster)
                    transports = await self._agent_transports(tg, [ident.name for ident in roles])
                    for ident, loop in roles.items():
                        messenger = Messenger(
                            ident.name,
                            transports[ident.name],
                            [other.name for other in roles],
                            sent=ctx.metrics.messages,
                            on_event=events.sink(),
                        )
                        for cls, handler in self.handlers.items():
                            messenger.handle(cls, handler)
                        member: Member
                        if ident.role is Role.WORKER:
                            model = self._resilient(ident.name, events)
                            models.append(model)
                            member = Agent(ident, ctx, cluster.client(), messenger, model, self._work_for)
                        else:
                            member = Member(ident, ctx, cluster.client(), messenger)
                        tg.start_soon(self._member_task, member, loop)
                    tg.start_soon(self._watch_leader, ctx)
                    tg.start_soon(self._watch_agents, ctx, [i for i in roles if i.role is Role.WORKER])
                    await ctx.ended.wait()
                    tg.cancel_scope.cancel()
            if deadline.cancelled_caught:
                ctx.end(RunStatus.CANCELLED, f"the run did not finish within {timeout}s")
        finally:
            self._scopes.clear()
            wall = time.monotonic() - started
            with anyio.CancelScope(shield=True):
                view = await self._final_view(ctx)
            for fn in kinds:
                finish = getattr(fn, "finish", None)
                if finish is not None:
                    finish(workdir)
            report = self._report(ctx, wall, models, events_path, view)
            events.emit("report", **report.model_dump(mode="json", exclude={"graph", "results"}))
            events.close()
        return report

    # -- inside a run -------------------------------------------------------------------------

    def _check_kinds(self, graph: TaskGraph) -> None:
        missing = sorted({t.kind or DEFAULT_KIND for t in graph.tasks} - set(self.work))
        if missing:
            raise TeamError(
                f"no work function for task kind(s) {missing} of graph {graph.name!r}: the team has"
                f" {sorted(self.work)}; pass Team(work={{kind: fn, ...}}), with {DEFAULT_KIND!r} for tasks"
                " without a kind"
            )

    def _work_for(self, task: Task) -> WorkFn:
        return self.work[task.kind or DEFAULT_KIND]

    def _roles(self, graph: TaskGraph, cluster: LocalCluster) -> dict[AgentId, Loop]:
        """What each member runs: every worker, and for centralized an orchestrator on every node."""
        nodes = list(cluster.ids[: self.replicas])
        workers = [AgentId.worker(i, nodes) for i in range(1, self.size + 1)]
        if self.topology in (Topology.SINGLE, Topology.DECENTRALIZED):
            return {w: run_decentralized for w in workers}
        if self.topology is Topology.ROUNDS:
            return dict.fromkeys(workers, LockStep([w.name for w in workers]).run)
        if self.topology is Topology.PREASSIGNED:
            plan = graph.best_schedule(self.size, seed=self.seed).agents
            return {w: functools.partial(run_preassigned, plan=plan[i]) for i, w in enumerate(workers)}
        names = [w.name for w in workers]
        roles: dict[AgentId, Loop] = {
            w: functools.partial(run_worker, orchestrator=self._orchestrator_id) for w in workers
        }
        for node in cluster.ids:
            leads = functools.partial(self._leads, node)
            roles[AgentId.orchestrator(node)] = functools.partial(run_orchestrator, is_leader=leads, workers=names)
        return roles

    def _orchestrator_id(self) -> str | None:
        leader = self._require_cluster().leader()
        return None if leader is None else AgentId.orchestrator(leader).name

    def _leads(self, node_id: str) -> bool:
        node = self._require_cluster().nodes.get(node_id)
        return node is not None and node.is_leader

    async def _member_task(self, member: Member, loop: Loop) -> None:
        with anyio.CancelScope() as scope:
            self._scopes[member.ident] = scope
            async with anyio.create_task_group() as tg:
                tg.start_soon(member.messenger.serve)
                while not member.ctx.ended.is_set():
                    try:
                        await loop(member)
                    except ConsensusError as exc:  # no leader for a while: wait and look again
                        member.ctx.events.emit("consensus_unavailable", agent=member.id, error=str(exc))
                        await anyio.sleep(member.ctx.settings.poll_s)
                tg.cancel_scope.cancel()
        if scope.cancel_called and not member.ctx.ended.is_set():
            member.ctx.events.emit("agent_crash", agent=member.id)
        self._scopes.pop(member.ident, None)

    async def _final_view(self, ctx: RunContext) -> CommittedView | None:
        """The run's tasks as committed, for the report's counts (None if the world cannot be read now)."""
        try:
            with anyio.fail_after(5.0):
                return await ctx.read_view(self._require_cluster().client())
        except Exception as exc:  # the cluster may be down (a crashed leader, a cancelled team)
            log.info("team.final_read_failed", run=ctx.run_id, error=str(exc))
            return None

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

    async def _watch_agents(self, ctx: RunContext, workers: list[AgentId]) -> None:
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
        self,
        ctx: RunContext,
        wall: float,
        models: list[ResilientModel],
        events_path: Path | None,
        view: CommittedView | None,
    ) -> RunReport:
        m, graph, n = ctx.metrics, ctx.graph, self.size
        bound = graph.bound(n)
        c = m.counters
        finishes = list(m.last_finish.values())
        status = ctx.status or RunStatus.CANCELLED
        if view is not None:  # committed state decides: a completion may be committed before its submitter hears
            done, failed, results = view.done, dict(view.failed), view.results()
            blocked = view.blocked() - set(failed)
        else:
            done, failed, results, blocked = {t for t, k in m.completions.items() if k}, {}, {}, set()
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
            tasks_done=len(done),
            tasks_failed=len(failed),
            tasks_blocked=len(blocked),
            failed_tasks=failed,
            blocked_tasks=sorted(blocked),
            results=results,
            tests_passed=c["tests_passed"],
            tests_failed=c["tests_failed"],
            attempts=m.attempts,
            backups=m.backups,
            tokens_in=m.tokens_in,
            tokens_out=m.tokens_out,
            cost_usd=m.cost_usd,
            model_calls=m.model_calls,
            messages=dict(sorted(m.messages.items())),
            conflicts_rejected=dict(sorted(m.conflicts.items())),
            fenced_writes=c["fenced_writes"],
            concurrent_writes=c["concurrent_writes"],
            retries=sum(x.retry.retries for x in models if x.retry is not None),
            breaker_trips=sum(x.breaker.trips for x in models if x.breaker is not None),
            parse_repairs=c["parse_repairs"] + ctx.events.counts["parse_retry"],
            leader_changes=m.leader_changes,
            idle_agent_s=max(0.0, sum(wall - m.busy_s[AgentId.worker(i, []).name] for i in range(1, n + 1))),
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


async def _enter_in(tg: Any, transport: Transport) -> None:
    """Run ``async with transport`` inside ``tg`` until the task group is cancelled."""

    async def hold(*, task_status: Any) -> None:
        async with transport:
            task_status.started()
            await anyio.sleep_forever()

    await tg.start(hold)
