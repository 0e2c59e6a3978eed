"""The LLM work kind: a tool loop that ends in a validated final answer.

::

    team = Team(work=llm_work(tools=[sql_query, describe_table], output=Answer), model=...)

For each task the model sees the task (id, title, description, input), the
committed results of its dependencies (``ctx.inputs``) and the tools. It
calls tools, gets their results, and ends with a final answer; with
``output`` (a pydantic model) the answer must validate against it, and an
answer that does not is fed back with the exact error, at most
``max_repairs`` times. Bad tool arguments and tools that raise are fed back
too (see ``lmteams.runtime.tools``); they never fail the task by themselves.
``max_turns`` bounds the model calls of one attempt.

The work function uses only ``ctx.task``, ``ctx.inputs``, ``ctx.model`` and
``ctx.events`` (``emit(kind, **fields)``): it knows nothing of the gate.
Events: ``llm_turn`` per model call, ``tool_call`` per tool call,
``llm_repair`` per answer fed back, ``llm_answer`` at the end.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ValidationError

from lmteams.runtime.errors import LmTeamsError, OutputParseError
from lmteams.runtime.models.base import Completion, Message, Model, ToolCall
from lmteams.runtime.resilience.structured import JSONExtractError, describe_validation_error, extract_json
from lmteams.runtime.tools import Tool, tool
from lmteams.runtime.tools.schema import json_schema
from lmteams.runtime.work import llm_protocol as proto

ToolMode = Literal["native", "json"]
SchemaHook = Callable[[Any, dict[str, Any]], dict[str, Any]]
"""``(task, schema) -> schema``: per-task constraints on what goes out as ``response_format``."""

DEFAULT_MAX_TOKENS = 512


class LLMWorkError(LmTeamsError):
    """The tool loop ran out of turns without a final answer; raise ``max_turns`` or simplify the task."""


class _Events(Protocol):
    def emit(self, kind: str, **fields: Any) -> None: ...


class LLMContext(Protocol):
    """What the LLM work kind reads of a ``WorkContext``."""

    task: Any
    inputs: dict[str, Any]
    model: Model
    events: _Events


WorkFn = Callable[[Any, Any], Awaitable[Any]]


def llm_work(
    *,
    tools: Iterable[Tool | Callable[..., Any]] = (),
    output: type[BaseModel] | None = None,
    system: str | None = None,
    max_turns: int = 8,
    max_repairs: int = 2,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
    tool_mode: ToolMode = "native",
    schema_hook: SchemaHook | None = None,
    require_tool: bool = False,
    answer_after_tool: bool = False,
    constrain: bool = True,
) -> WorkFn:
    """A work function that runs the tool loop for each task (see the module docstring).

    ``tool_mode="json"`` is for models without tool calling (see
    ``llm_protocol``); ``schema_hook`` narrows the schema per task (e.g. an
    enum of the allowed values). ``require_tool`` makes the model call a tool
    before it may answer (``tool_choice="required"`` natively; in json mode the
    schema offers only the calls until one has succeeded); ``answer_after_tool``
    makes it answer once a tool has succeeded (``tool_choice="none"``; in json
    mode only the answer is offered), a two-step protocol small models keep to. ``constrain=False``
    sends no ``response_format`` at all (the schema is still stated in the
    prompt), to compare. The result is the validated answer as JSON
    (``output.model_dump(mode="json")``), or the final text without ``output``.
    """
    if max_turns < 1:
        raise ValueError(f"llm_work: max_turns must be >= 1, got {max_turns}")
    if max_repairs < 0:
        raise ValueError(f"llm_work: max_repairs must be >= 0, got {max_repairs}")
    if tool_mode not in ("native", "json"):
        raise ValueError(f"llm_work: tool_mode must be 'native' or 'json', got {tool_mode!r}")
    toolbox = {t.name: t for t in (tool(f) for f in tools)}
    answer_schema = json_schema(output) if output is not None else None

    async def work(task: Any, ctx: Any) -> Any:
        loop = _Loop(task, ctx, toolbox, output, answer_schema, system, max_repairs, max_tokens, tool_mode, schema_hook)
        loop.require_tool = require_tool and bool(toolbox)
        loop.answer_after_tool = answer_after_tool
        if not constrain:
            loop.response_format = loop.calls_only_format = loop.answer_only_format = None
        return await loop.run(max_turns)

    work.__qualname__ = work.__name__ = "llm_work"
    return work


class _Loop:
    def __init__(
        self,
        task: Any,
        ctx: Any,
        toolbox: dict[str, Tool],
        output: type[BaseModel] | None,
        answer_schema: dict[str, Any] | None,
        system: str | None,
        max_repairs: int,
        max_tokens: int | None,
        tool_mode: ToolMode,
        schema_hook: SchemaHook | None,
    ) -> None:
        self.task = task
        self.ctx = ctx
        self.toolbox = toolbox
        self.output = output
        self.max_repairs = max_repairs
        self.max_tokens = max_tokens
        self.json_mode = tool_mode == "json"
        self.repairs = 0
        specs = [t.spec for t in toolbox.values()]
        inputs: Mapping[str, Any] = getattr(ctx, "inputs", None) or {}
        sys_text = system or proto.DEFAULT_SYSTEM
        if self.json_mode:
            sys_text += "\n" + proto.JSON_PROTOCOL + "\n" + proto.tool_catalogue(specs)
            fmt: dict[str, Any] | None = proto.envelope_schema(specs, answer_schema)
            self.tools = None
        else:
            fmt = answer_schema
            self.tools = specs or None
        self.response_format = schema_hook(task, fmt) if schema_hook is not None and fmt is not None else fmt
        self.calls_only_format: dict[str, Any] | None = None
        self.answer_only_format: dict[str, Any] | None = None
        if self.json_mode and self.response_format is not None:
            branches = self.response_format["anyOf"]
            answer = [b for b in branches if "answer" in b.get("properties", {})]
            self.calls_only_format = {**self.response_format, "anyOf": [b for b in branches if b not in answer]}
            self.answer_only_format = {**self.response_format, "anyOf": answer}
        self.require_tool = False
        self.answer_after_tool = False
        self.tool_succeeded = False
        shown = None if self.json_mode else answer_schema
        self.messages = [
            Message(role="system", content=sys_text),
            Message(role="user", content=proto.task_prompt(task, inputs, shown)),
        ]

    def emit(self, kind: str, **fields: Any) -> None:
        events = getattr(self.ctx, "events", None)
        if events is not None:
            events.emit(kind, **fields)  # a WorkContext's events are already bound to the task and agent

    async def run(self, max_turns: int) -> Any:
        for turn in range(1, max_turns + 1):
            params: dict[str, Any] = {}
            fmt = self.response_format
            if self.require_tool and not self.tool_succeeded:
                if self.json_mode:
                    fmt = self.calls_only_format
                else:
                    params["tool_choice"] = "required"
            elif self.answer_after_tool and self.tool_succeeded:
                if self.json_mode:
                    fmt = self.answer_only_format
                else:
                    params["tool_choice"] = "none"
            completion = await self.ctx.model.complete(
                list(self.messages), tools=self.tools, response_format=fmt, max_tokens=self.max_tokens, **params
            )
            self.emit(
                "llm_turn",
                turn=turn,
                tokens_in=completion.usage.prompt_tokens,
                tokens_out=completion.usage.completion_tokens,
                latency_s=round(completion.latency_s, 4),
            )
            calls = self._calls(completion)
            if calls is None:  # a json-mode reply that is neither a call nor an answer: fed back
                continue
            if calls:
                await self._call_tools(completion, calls)
                continue
            if self.require_tool and not self.tool_succeeded:
                self._repair(completion.text, f"call one of the tools ({', '.join(self.toolbox)}) before you answer")
                continue
            done, value = self._final(completion)
            if done:
                self.emit("llm_answer", turns=turn, repairs=self.repairs)
                return value
        raise LLMWorkError(
            f"task {self.task.id!r}: no final answer within max_turns={max_turns} model calls; "
            "raise max_turns or give the model fewer steps to take"
        )

    # -- reading a reply ---------------------------------------------------------------

    def _calls(self, completion: Completion) -> list[ToolCall] | None:
        """The tool calls of a reply ([] for a final answer); None when a json-mode reply was fed back."""
        if not self.json_mode:
            return list(completion.tool_calls)
        try:
            reply = extract_json(completion.text)
        except JSONExtractError as exc:
            self._repair(completion.text, str(exc))
            return None
        if isinstance(reply, dict) and "tool" in reply and "answer" not in reply:
            args = reply.get("arguments", {})
            text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
            return [ToolCall(id=f"json-{len(self.messages)}", name=str(reply["tool"]), arguments=text)]
        if isinstance(reply, dict) and "answer" in reply:
            return []
        self._repair(completion.text, 'the reply is neither {"tool": ..., "arguments": ...} nor {"answer": ...}')
        return None

    async def _call_tools(self, completion: Completion, calls: list[ToolCall]) -> None:
        if self.json_mode:
            self.messages.append(Message(role="assistant", content=completion.text))
        else:
            self.messages.append(Message(role="assistant", content=completion.text, tool_calls=tuple(calls)))
        for call in calls:
            found = self.toolbox.get(call.name)
            error: str | None
            if found is None:
                ok, error = False, f"there is no tool named {call.name!r}"
                content = f"error: {error}; the tools are: {', '.join(self.toolbox) or 'none'}"
            else:
                result = await found.invoke(call.arguments)
                ok, content, error = result.ok, result.content, result.error
            self.emit("tool_call", tool=call.name, ok=ok, error=error)
            self.tool_succeeded = self.tool_succeeded or ok
            if self.json_mode:
                self.messages.append(proto.tool_result_message(call.name, content))
            else:
                self.messages.append(Message(role="tool", tool_call_id=call.id, content=content))

    def _final(self, completion: Completion) -> tuple[bool, Any]:
        """(True, the result) for a valid final answer; (False, None) after feeding an invalid one back."""
        text = completion.text
        if self.json_mode:
            value = extract_json(text)["answer"]  # _calls checked it parses and has "answer"
        elif self.output is None:
            return True, text
        else:
            try:
                value = extract_json(text)
            except JSONExtractError as exc:
                self._repair(text, str(exc))
                return False, None
        if self.output is None:
            return True, value
        try:
            return True, self.output.model_validate(value).model_dump(mode="json")
        except ValidationError as exc:
            self._repair(text, f"the answer does not match {self.output.__name__}: {describe_validation_error(exc)}")
            return False, None

    def _repair(self, text: str, error: str) -> None:
        self.repairs += 1
        self.emit("llm_repair", attempt=self.repairs, error=error[:300])
        if self.repairs > self.max_repairs:
            raise OutputParseError(
                f"task {self.task.id!r}: the model's answer was still unusable after {self.max_repairs} "
                f"repair(s): {error}",
                model=getattr(self.ctx.model, "name", None),
                reply=text,
            )
        self.messages.append(Message(role="assistant", content=text))
        self.messages.append(proto.feedback(error, json_mode=self.json_mode))


def default_llm_model(seed: int = 0) -> Model:
    """The simulated model ``Team`` uses for an LLM work kind when it is given none (see ``llm_simulated``)."""
    from lmteams.runtime.work.llm_simulated import simulated_tool_model

    return simulated_tool_model(seed=seed)


__all__ = ["LLMContext", "LLMWorkError", "SchemaHook", "ToolMode", "WorkFn", "default_llm_model", "llm_work"]
