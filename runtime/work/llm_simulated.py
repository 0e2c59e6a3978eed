"""A simulated model for the LLM work kind: it follows the tool protocol, not the meaning.

``simulated_tool_model(seed)`` is a ``SimulatedModel`` whose responder reads
the tools and the answer schema it is offered: on a task's first turn it
calls the first tool, with arguments built from the tool's schema (a value
from the task's ``Input`` when a property has the same name, else the
default, else a placeholder of the right type); once a tool has answered it
gives a final answer built from the answer schema the same way. It works in
both tool modes (native tool calls, or the json envelope). It is a
simulator: its answers are well-formed, not right.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lmteams.runtime.models.base import Completion, Message, ToolCall, ToolSpec
from lmteams.runtime.models.simulated import Latency, SimulatedModel

SIMULATED_LATENCY = Latency(median_s=0.05, sigma=0.2)


def simulated_tool_model(*, seed: int = 0, latency: Latency = SIMULATED_LATENCY) -> SimulatedModel:
    return SimulatedModel(seed=seed, latency=latency, responder=respond, name="simulated-tools")


def respond(
    messages: list[Message], tools: Sequence[ToolSpec] | None = None, response_format: dict[str, Any] | None = None
) -> Completion | str:
    hints = _task_input(messages)
    called = any(m.role == "tool" or m.content.startswith("Result of ") for m in messages if m.role != "system")
    if tools:  # native tool calling
        if not called:
            spec = tools[0]
            args = instance(spec.parameters, hints, spec.parameters)
            return Completion(text="", tool_calls=(ToolCall(id="call-1", name=spec.name, arguments=json.dumps(args)),))
        if response_format is None:
            results = [m.content for m in messages if m.role == "tool"]
            return f"done: {results[-1] if results else ''}"
        return json.dumps(instance(response_format, hints, response_format))
    root = response_format or {}
    branches = root.get("anyOf", [])
    calls = [b for b in branches if "tool" in b.get("properties", {})]
    answer = next((b for b in branches if "answer" in b.get("properties", {})), None)
    if answer is not None:  # the json envelope
        if calls and not called:
            props = calls[0]["properties"]
            args = instance(props["arguments"], hints, root)
            return json.dumps({"tool": props["tool"]["const"], "arguments": args})
        return json.dumps({"answer": instance(answer["properties"]["answer"], hints, root)})
    if response_format is not None:
        return json.dumps(instance(response_format, hints, response_format))
    return "done."


def _task_input(messages: list[Message]) -> dict[str, Any]:
    for m in messages:
        for line in m.content.splitlines() if m.role == "user" else ():
            if line.startswith("Input: "):
                try:
                    value = json.loads(line[len("Input: ") :])
                except json.JSONDecodeError:
                    return {}
                return value if isinstance(value, dict) else {}
    return {}


def instance(schema: dict[str, Any], hints: dict[str, Any], root: dict[str, Any], name: str = "") -> Any:
    """A value that satisfies the simple parts of ``schema`` (types, enum, const, defaults, required)."""
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {})
        return instance(target, hints, root, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return hints[name] if hints.get(name) in schema["enum"] else schema["enum"][0]
    if name in hints and _fits(hints[name], schema):
        return hints[name]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            branch = next((b for b in schema[key] if b.get("type") != "null"), schema[key][0])
            return instance(branch, hints, root, name)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: instance(v, hints, root, k) for k, v in props.items() if k in schema.get("required", [])}
    if kind == "array":
        n = int(schema.get("minItems", 0))
        return [instance(schema.get("items", {}), hints, root) for _ in range(n)]
    return {"integer": 0, "number": 0.0, "boolean": True, "null": None}.get(str(kind), "simulated")


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    types: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "array": list,
        "object": dict,
    }
    return kind is None or (kind in types and isinstance(value, types[str(kind)]))
