"""PNG figures of a sweep (``lmteams plot``): speedup, cost, conflicts, and one run's timeline.

matplotlib is imported lazily with the Agg backend (files only, no display),
so importing lmteams never needs it; ``pip install lmteams[plots]`` brings it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOPOLOGY_STYLE: dict[str, tuple[str, str]] = {
    "decentralized": ("tab:blue", "o"),
    "preassigned": ("tab:orange", "s"),
    "centralized": ("tab:purple", "D"),
    "rounds": ("tab:red", "^"),
}
OUTCOME_COLOUR = {"done": "tab:green", "lost": "tab:gray", "failed": "tab:red", "open": "tab:olive"}


class PlotError(Exception):
    """A figure cannot be drawn: matplotlib missing, no rows, or an unreadable events file."""


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        raise PlotError("plots need matplotlib: pip install 'lmteams[plots]' (or pip install matplotlib)") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _topologies(rows: list[dict[str, Any]]) -> list[str]:
    present = {r["topology"] for r in rows}
    return [t for t in TOPOLOGY_STYLE if t in present] + sorted(present - set(TOPOLOGY_STYLE) - {"single"})


def _median_by_n(
    rows: list[dict[str, Any]], value: Callable[[dict[str, Any]], float | None]
) -> tuple[list[int], list[float], list[float], list[float]]:
    """n, median, lower and upper quartile of ``value`` over the rows (skipping None)."""
    by_n: dict[int, list[float]] = defaultdict(list)
    for r in rows:
        v = value(r)
        if v is not None:
            by_n[int(r["agents"])].append(float(v))
    ns = sorted(by_n)
    med, lo, hi = [], [], []
    for n in ns:
        vs = sorted(by_n[n])
        med.append(statistics.median(vs))
        q = statistics.quantiles(vs, n=4, method="inclusive") if len(vs) > 1 else [vs[0]] * 3
        lo.append(q[0])
        hi.append(q[2])
    return ns, med, lo, hi


def speedup_figure(rows: list[dict[str, Any]], path: Path) -> Path:
    """Speedup against n, one panel per p, one line per topology, with the Amdahl curve and the schedule bound."""
    plt = _pyplot()
    rows = [r for r in rows if r.get("speedup") is not None]
    if not rows:
        raise PlotError("no run with a speedup: the table needs completed single-agent baselines")
    variants = sorted({float(r["variant"]) for r in rows})
    fig, axes = plt.subplots(1, len(variants), figsize=(4.6 * len(variants), 4.2), sharey=True, squeeze=False)
    nmax = max(int(r["agents"]) for r in rows)
    ymax = 1.0
    for ax, p in zip(axes[0], variants):
        sub = [r for r in rows if float(r["variant"]) == p]
        ns = list(range(1, nmax + 1))
        pf = float(sub[0]["graph_parallel_fraction"])
        amdahl = [1.0 / ((1 - pf) + pf / n) for n in ns]
        work, cp = float(sub[0]["graph_work"]), float(sub[0]["graph_critical_path_length"])
        bound = [work / max(work / n, cp) for n in ns]
        ax.plot(ns, bound, color="black", lw=1.2, ls=":", label="schedule bound")
        ax.plot(ns, amdahl, color="black", lw=1.2, ls="--", label="Amdahl 1/((1-p)+p/n)")
        ymax = max(ymax, *bound)
        for topology in _topologies(sub):
            colour, marker = TOPOLOGY_STYLE.get(topology, ("tab:green", "x"))
            team = [r for r in sub if r["topology"] == topology]
            xs, med, lo, hi = _median_by_n(team, lambda r: r["speedup"])
            if 1 not in xs:  # every topology starts from the single-agent baseline
                xs, med, lo, hi = [1, *xs], [1.0, *med], [1.0, *lo], [1.0, *hi]
            ax.plot(xs, med, color=colour, marker=marker, lw=1.8, label=f"{topology} (median)")
            ax.fill_between(xs, lo, hi, color=colour, alpha=0.15, lw=0)
            ymax = max(ymax, *hi)
        ax.set_title(f"p = {p:g} ({sub[0]['graph_tasks']} tasks, critical path {cp:g})")
        ax.set_xlabel("agents n")
        ax.set_xticks(ns)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("speedup against one agent")
    axes[0][0].set_ylim(0, ymax * 1.08)
    handles, labels = axes[0][-1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), frameon=False)
    fig.suptitle("Speedup against team size (band: quartiles over seeds and suites)")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return _save(fig, plt, path)


def _by_topology_panels(
    rows: list[dict[str, Any]],
    path: Path,
    panels: list[tuple[str, str, Callable[[dict[str, Any]], float | None]]],
    title: str,
) -> Path:
    plt = _pyplot()
    if not rows:
        raise PlotError("no runs to plot")
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), squeeze=False)
    for ax, (name, unit, value) in zip(axes[0], panels):
        for topology in ["single", *_topologies(rows)]:
            colour, marker = TOPOLOGY_STYLE.get(topology, ("black", "*"))
            xs, med, lo, hi = _median_by_n([r for r in rows if r["topology"] == topology], value)
            if not xs:
                continue
            label = "one agent" if topology == "single" else topology
            ax.plot(xs, med, color=colour, marker=marker, lw=1.6, label=label, ls="none" if len(xs) == 1 else "-")
            ax.fill_between(xs, lo, hi, color=colour, alpha=0.15, lw=0)
        ax.set_title(name)
        ax.set_xlabel("agents n")
        ax.set_ylabel(unit)
        ax.set_xticks(sorted({int(r["agents"]) for r in rows}))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return _save(fig, plt, path)


def cost_figure(rows: list[dict[str, Any]], path: Path) -> Path:
    """Tokens and messages against n, one line per topology."""
    return _by_topology_panels(
        rows,
        path,
        [
            ("tokens (in + out) per run", "tokens", lambda r: r["tokens"]),
            ("agent messages per run", "messages", lambda r: r["messages_total"]),
        ],
        "What coordination costs (median over variants, seeds and suites; band: quartiles)",
    )


def conflict_figure(rows: list[dict[str, Any]], path: Path) -> Path:
    """Conflicts rejected by the gate and the straggler gap against n."""
    return _by_topology_panels(
        rows,
        path,
        [
            ("attempts the gate rejected", "conflicts per run", lambda r: r["conflicts_total"]),
            ("straggler gap", "seconds (scaled time)", lambda r: r["straggler_gap_s"]),
        ],
        "Conflicts and stragglers (median over variants, seeds and suites; band: quartiles)",
    )


# -- one run's timeline ----------------------------------------------------------------------------


@dataclass(slots=True)
class Attempt:
    agent: str
    task: str
    start: float
    end: float
    outcome: str
    backup: bool


def attempts_from_events(events: Iterable[dict[str, Any]]) -> tuple[list[Attempt], dict[str, list[Any]]]:
    """Each attempt (agent, task, start, end, outcome) and the marks (conflicts, leader changes, rounds)."""
    opened: dict[tuple[str, str], tuple[float, bool]] = {}
    attempts: list[Attempt] = []
    marks: dict[str, list[Any]] = {"conflict": [], "leader_change": [], "round": [], "backup_start": []}
    end_t = 0.0
    for e in events:
        name, t = e.get("event"), float(e.get("t", 0.0))
        end_t = max(end_t, t)
        agent, task = str(e.get("agent", "")), str(e.get("task", ""))
        if name == "backup_start":
            opened[(agent, task)] = (t, True)
            marks["backup_start"].append((agent, t))
        elif name == "claim":
            opened.setdefault((agent, task), (t, False))
        elif name in ("complete", "conflict", "attempt_failed"):
            start, backup = opened.pop((agent, task), (t, bool(e.get("backup"))))
            if name == "complete" and "s" in e:
                start = min(start, t - float(e["s"]))
            outcome = {"complete": "done", "conflict": "lost", "attempt_failed": "failed"}[name]
            attempts.append(Attempt(agent, task, start, t, outcome, backup or bool(e.get("backup"))))
            if name == "conflict":
                marks["conflict"].append((agent, t, e.get("reason", "")))
        elif name == "leader_change":
            marks["leader_change"].append((t, e.get("old"), e.get("new")))
        elif name == "round":
            marks["round"].append(t)
    for (agent, task), (start, backup) in opened.items():  # cut off by the end of the run
        attempts.append(Attempt(agent, task, start, end_t, "open", backup))
    return attempts, marks


def timeline_figure(events_path: Path, path: Path, *, title: str | None = None) -> Path:
    """Agents x time for one run: a bar per attempt coloured by outcome; backups, conflicts, leader changes marked."""
    from lmteams.runtime.events import read_events

    plt = _pyplot()
    from matplotlib.patches import Patch

    try:
        events = read_events(Path(events_path))
    except (OSError, ValueError) as exc:
        raise PlotError(f"cannot read the run's events {events_path}: {exc}") from exc
    attempts, marks = attempts_from_events(events)
    if not attempts:
        raise PlotError(f"{events_path} holds no attempts (claim/complete events) to draw")
    start: dict[str, Any] = next((e for e in events if e.get("event") == "run_start"), {})
    agents = sorted({a.agent for a in attempts}, key=lambda a: (len(a), a))
    row = {a: i for i, a in enumerate(agents)}
    end = max(a.end for a in attempts)
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.55 * len(agents)))
    for a in attempts:
        width = max(a.end - a.start, end * 0.002)
        ax.barh(
            row[a.agent],
            width,
            left=a.start,
            height=0.6,
            color=OUTCOME_COLOUR[a.outcome],
            edgecolor="black",
            lw=0.4,
            hatch="///" if a.backup else None,
            alpha=0.9,
        )
        if width > end * 0.03:
            ax.text(a.start + width / 2, row[a.agent], a.task, ha="center", va="center", fontsize=7)
    for r in marks["round"]:
        ax.axvline(r, color="tab:gray", lw=0.5, alpha=0.5)
    for t, _old, new in marks["leader_change"]:
        ax.axvline(t, color="tab:purple", lw=1.5, ls="--")
        ax.text(t, len(agents) - 0.4, f" leader → {new}", color="tab:purple", fontsize=8, va="bottom")
    if marks["conflict"]:
        ax.scatter(
            [t for _, t, _ in marks["conflict"]],
            [row.get(a, 0) + 0.36 for a, _, _ in marks["conflict"]],
            marker="v",
            color="black",
            s=18,
            zorder=3,
        )
    shown = {a.outcome for a in attempts} | {"done", "lost", "failed"}
    names = {"open": "unfinished when the run ended"}
    legend = [
        Patch(facecolor=c, edgecolor="black", label=names.get(o, o)) for o, c in OUTCOME_COLOUR.items() if o in shown
    ]
    legend.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="backup attempt"))
    if marks["conflict"]:
        legend.append(
            plt.Line2D([], [], marker="v", color="black", ls="none", label=f"conflict ({len(marks['conflict'])})")
        )
    if marks["leader_change"]:
        legend.append(plt.Line2D([], [], color="tab:purple", ls="--", label="leader change"))
    if marks["round"]:
        legend.append(plt.Line2D([], [], color="tab:gray", lw=0.5, label=f"round starts ({len(marks['round'])})"))
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=len(legend), frameon=False)
    ax.set_yticks(range(len(agents)), agents)
    ax.set_ylim(-0.6, len(agents) - 0.1 + (0.5 if marks["leader_change"] else 0))
    ax.invert_yaxis()
    ax.set_xlim(0, end * 1.01)
    ax.set_xlabel("seconds since the run started (scaled time)")
    ax.grid(axis="x", alpha=0.3)
    label = f"{start.get('topology', '?')}, {start.get('agents', len(agents))} agents, {start.get('tasks', '?')} tasks"
    ax.set_title(title or f"Run timeline: {label}")
    fig.tight_layout()
    return _save(fig, plt, path)


def _save(fig: Any, plt: Any, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
