"""The tiny suite against the real bundled SmolLM2-135M on the local llama-cpp server.

    python benchmarks/tiny_local_model.py [--repeats 1] [--json]

Starts the server (one thread), runs the ten tiny tasks through the LLM work
kind's tool loop (json tool mode), with the schema sent as ``response_format``
and without it, and prints per mode: tasks done (exact answer), replies that
did not parse, model calls and seconds per task. A record, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics

import anyio

from lmteams.runtime.models.local_server import LocalModelServer
from lmteams.runtime.suites.tiny import TinyOutcome, run_tiny_suite


def summary(outcomes: list[TinyOutcome]) -> dict[str, float]:
    n = len(outcomes)
    return {
        "tasks": n,
        "done": sum(o.done for o in outcomes),
        "done_pct": 100.0 * sum(o.done for o in outcomes) / n,
        "parse_failures": sum(o.parse_failures for o in outcomes),
        "model_calls": sum(o.model_calls for o in outcomes),
        "seconds_per_task": statistics.mean(o.seconds for o in outcomes),
    }


async def main(repeats: int, as_json: bool) -> None:
    results: dict[str, list[dict[str, float]]] = {"schema": [], "no_schema": []}
    details: dict[str, list[TinyOutcome]] = {}
    async with LocalModelServer() as server:
        model = server.model(temperature=0.0, seed=1)
        await model.complete([{"role": "user", "content": "hi"}], max_tokens=1)  # warm up
        for _ in range(repeats):
            for mode, schema in (("schema", True), ("no_schema", False)):
                outcomes = await run_tiny_suite(model, schema=schema)
                results[mode].append(summary(outcomes))
                details[mode] = outcomes
    if as_json:
        print(json.dumps(results, indent=2))
        return
    for mode, runs in results.items():
        for r in runs:
            print(
                f"{mode:>9}: {r['done']:.0f}/{r['tasks']:.0f} done ({r['done_pct']:.0f}%), "
                f"{r['parse_failures']:.0f} replies unparsable, {r['model_calls']:.0f} model calls, "
                f"{r['seconds_per_task']:.2f} s per task"
            )
        for o in details[mode]:
            print(f"    {o.task_id:<10} want {o.expected!r:<8} got {o.answer!r:<10} {o.error or ''}"[:200])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    anyio.run(main, args.repeats, args.json)
