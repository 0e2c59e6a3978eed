"""What the LLM work kind says to a model, and how it reads the replies.

Two ways to offer tools:

- ``native``: the provider's own tool calling (``tools=[ToolSpec...]``); the
  model answers with ``tool_calls`` or with its final text;
- ``json``: for models and servers without tool calling (a tiny local model
  on llama-cpp): every reply is one JSON object, either
  ``{"tool": NAME, "arguments": {...}}`` or ``{"answer": ...}``, and the JSON
  schema of that envelope goes out as ``response_format``, so a server with
  grammar-constrained decoding can only produce a well-formed call or answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from lmteams.runtime.models.base import Message, ToolSpec
from lmteams.runtime.tools.schema import ToolDefinitionError

DEFAULT_SYSTEM = (
    "You are one agent of a team. Do the task you are given. Use the tools when they help; "
    "when you know the answer, give it."
)

JSON_PROTOCOL = (
    "Reply with exactly one JSON object and nothing else. To call a tool: "
    '{"tool": "<name>", "arguments": {...}}. To give the final answer: {"answer": ...}.'
)


def task_prompt(task: Any, inputs: Mapping[str, Any], answer_schema: dict[str, Any] | None) -> str:
    """The user message that states the task: its id, title, description, input and its dependencies' results."""
    lines = [f"TASK-ID: {task.id}", f"Task: {task.title}"]
    description = getattr(task, "description", "")
    if description:
        lines.append(description)
    payload = getattr(task, "input", None)
    if payload is not None:
        lines.append("Input: " + json.dumps(payload, ensure_ascii=False, default=str))
    if inputs:
        lines.append("Results of the tasks this one depends on:")
        lines += [f"- {tid}: {json.dumps(value, ensure_ascii=False, default=str)}" for tid, value in inputs.items()]
    if answer_schema is not None:
        lines.append("The answer must match this JSON schema: " + json.dumps(answer_schema, separators=(",", ":")))
    return "\n".join(lines)


def tool_catalogue(specs: Sequence[ToolSpec]) -> str:
    """The tools as text, for the json mode's system message."""
    rows = [f"- {s.name}: {s.description or '(no description)'} Arguments: {json.dumps(s.parameters)}" for s in specs]
    return "Tools:\n" + "\n".join(rows) if rows else "There are no tools."


def envelope_schema(specs: Sequence[ToolSpec], answer_schema: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON schema of one json-mode reply: one of the tool calls, or the answer."""
    defs: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    for spec in specs:
        params = _hoist(dict(spec.parameters), defs, spec.name)
        branches.append(
            {
                "type": "object",
                "properties": {"tool": {"const": spec.name}, "arguments": params},
                "required": ["tool", "arguments"],
                "additionalProperties": False,
            }
        )
    answer = _hoist(dict(answer_schema), defs, "answer") if answer_schema is not None else {"type": "string"}
    branches.append(
        {"type": "object", "properties": {"answer": answer}, "required": ["answer"], "additionalProperties": False}
    )
    schema: dict[str, Any] = {"anyOf": branches}
    if defs:
        schema["$defs"] = defs
    return schema


def _hoist(schema: dict[str, Any], defs: dict[str, Any], owner: str) -> dict[str, Any]:
    """Move a schema's ``$defs`` to the envelope's root, where its ``#/$defs/..`` references point."""
    for name, definition in schema.pop("$defs", {}).items():
        if name in defs and defs[name] != definition:
            raise ToolDefinitionError(
                f"{owner!r} and another tool define different models named {name!r}; rename one of them"
            )
        defs[name] = definition
    return schema


def tool_result_message(name: str, content: str) -> Message:
    """A tool's result in the json mode (no tool-call ids there): a user message."""
    return Message(role="user", content=f"Result of {name}: {content}")


def feedback(error: str, *, json_mode: bool) -> Message:
    tail = JSON_PROTOCOL if json_mode else "Give the final answer again, as the schema asks."
    return Message(role="user", content=f"Your reply could not be used: {error}. {tail}")
