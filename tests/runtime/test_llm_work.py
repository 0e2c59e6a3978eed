"""The LLM work kind's tool loop, against a real SimulatedModel scripted to call tools,
with a stand-in context (a plain data holder, as WorkContext is)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from pydantic import BaseModel, Field

from lmteams.runtime.errors import OutputParseError
from lmteams.runtime.models import Latency, Message, SimulatedModel, ToolCall
from lmteams.runtime.models.base import Completion, Model, ToolSpec
from lmteams.runtime.tools import function_tool
from lmteams.runtime.work.llm import LLMWorkError, default_llm_model, llm_work

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]
FAST = Latency(time_scale=1e-4)


@dataclass
class Task:
    id: str
    title: str
    input: Any = None
    description: str = ""


@dataclass
class Events:
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def emit(self, kind: str, **fields: Any) -> None:
        self.seen.append((kind, fields))

    def kinds(self) -> list[str]:
        return [k for k, _ in self.seen]


@dataclass
class Ctx:
    task: Task
    model: Model
    inputs: dict[str, Any] = field(default_factory=dict)
    events: Events = field(default_factory=Events)


class Total(BaseModel):
    total: int = Field(ge=0)
    note: str = ""


@function_tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@function_tool
async def fail(reason: str) -> str:
    """Always raises."""
    await anyio.sleep(0)
    raise RuntimeError(f"broken: {reason}")


def call(name: str, arguments: str, id: str = "c") -> list[ToolCall]:
    return [ToolCall(id=id, name=name, arguments=arguments)]


def script(*replies: Any) -> tuple[SimulatedModel, list[list[Message]]]:
    """A model that gives ``replies`` in order and records what it saw."""
    seen: list[list[Message]] = []

    def responder(messages: list[Message]) -> Any:
        seen.append(messages)
        return replies[len(seen) - 1]

    return SimulatedModel(latency=FAST, responder=responder), seen


async def test_the_model_sees_the_task_its_inputs_and_the_tools_then_calls_one_and_answers() -> None:
    offered: list[Any] = []

    def responder(messages: list[Message], tools: Any = None, response_format: Any = None) -> Any:
        offered.append((tools, response_format))
        if messages[-1].role == "tool":
            return json.dumps({"total": int(messages[-1].content)})
        return call("add", '{"a": 2, "b": 40}')

    model = SimulatedModel(latency=FAST, responder=responder)
    ctx = Ctx(Task("t2", "Add the numbers", input={"a": 2}), model, inputs={"t1": {"b": 40}})
    result = await llm_work(tools=[add], output=Total)(ctx.task, ctx)
    assert result == {"total": 42, "note": ""}
    tools, fmt = offered[0]
    assert [t.name for t in tools] == ["add"] and tools[0].parameters["required"] == ["a", "b"]
    assert fmt["properties"]["total"]["minimum"] == 0  # the output schema goes out as response_format
    assert ctx.events.kinds() == ["llm_turn", "tool_call", "llm_turn", "llm_answer"]
    assert ctx.events.seen[1][1] == {"tool": "add", "ok": True, "error": None}


async def test_the_prompt_holds_title_input_and_dependency_results() -> None:
    model, seen = script('{"total": 1}')
    ctx = Ctx(Task("t9", "Count rows", input={"table": "sales"}, description="Be exact."), model, {"t1": [1, 2]})
    await llm_work(output=Total)(ctx.task, ctx)
    prompt = seen[0][1].content
    assert "TASK-ID: t9" in prompt and "Task: Count rows" in prompt and "Be exact." in prompt
    assert 'Input: {"table": "sales"}' in prompt and "- t1: [1, 2]" in prompt
    assert '"total"' in prompt  # the answer's schema is stated


async def test_bad_arguments_a_raising_tool_and_an_unknown_tool_are_fed_back_and_the_run_completes() -> None:
    model, seen = script(
        call("add", '{"a": "two", "b": 1}', "c1"),
        call("add", '{"a": 2, "b": ', "c2"),  # JSON that does not parse
        call("fail", '{"reason": "disk"}', "c3"),
        call("nope", "{}", "c4"),
        call("add", '{"a": 2, "b": 1}', "c5"),
        '{"total": 3}',
    )
    ctx = Ctx(Task("t", "add"), model)
    assert await llm_work(tools=[add, fail], output=Total)(ctx.task, ctx) == {"total": 3, "note": ""}
    answers = [m for m in seen[-1] if m.role == "tool"]
    assert [m.tool_call_id for m in answers] == ["c1", "c2", "c3", "c4", "c5"]
    assert "a: Input should be a valid integer" in answers[0].content
    assert "not valid JSON" in answers[1].content
    assert "RuntimeError: broken: disk" in answers[2].content
    assert "no tool named 'nope'" in answers[3].content and "add, fail" in answers[3].content
    assert answers[4].content == "3"
    oks = [f["ok"] for k, f in ctx.events.seen if k == "tool_call"]
    assert oks == [False, False, False, False, True]


async def test_an_invalid_answer_is_repaired_within_limits() -> None:
    model, seen = script("no json here", '{"total": -1}', '{"total": 5}')
    ctx = Ctx(Task("t", "sum"), model)
    assert await llm_work(output=Total, max_repairs=2)(ctx.task, ctx) == {"total": 5, "note": ""}
    feedback = [m.content for m in seen[-1] if m.role == "user"][1:]
    assert "no JSON object found" in feedback[0]
    assert "total: Input should be greater than or equal to 0" in feedback[1]
    assert [f["attempt"] for k, f in ctx.events.seen if k == "llm_repair"] == [1, 2]


async def test_an_answer_still_invalid_after_the_repairs_fails_the_attempt() -> None:
    model, _ = script("nope", "still nope", "never asked")
    ctx = Ctx(Task("t", "sum"), model)
    with pytest.raises(OutputParseError, match="after 1 repair") as info:
        await llm_work(output=Total, max_repairs=1)(ctx.task, ctx)
    assert info.value.reply == "still nope" and model.calls == 2


async def test_turns_are_limited() -> None:
    model = SimulatedModel(latency=FAST, responder=lambda m: call("add", '{"a": 1, "b": 1}'))
    ctx = Ctx(Task("t", "loop forever"), model)
    with pytest.raises(LLMWorkError, match="max_turns=3"):
        await llm_work(tools=[add], max_turns=3)(ctx.task, ctx)
    assert model.calls == 3


async def test_without_an_output_schema_the_final_text_is_the_result() -> None:
    model, _ = script(call("add", '{"a": 1, "b": 2}'), "It is 3.")
    ctx = Ctx(Task("t", "add"), model)
    assert await llm_work(tools=[add])(ctx.task, ctx) == "It is 3."


async def test_json_mode_sends_the_envelope_schema_and_reads_calls_and_the_answer() -> None:
    formats: list[Any] = []

    def responder(messages: list[Message], tools: Any = None, response_format: Any = None) -> str:
        formats.append((tools, response_format))
        last = messages[-1].content
        if last.startswith("Result of add: "):
            return '{"answer": {"total": ' + last.split(": ")[1] + "}}"
        if "could not be used" in last:
            return '{"tool": "add", "arguments": {"a": 20, "b": 22}}'
        return "I think I will add"  # not JSON: fed back

    model = SimulatedModel(latency=FAST, responder=responder)
    ctx = Ctx(Task("t", "add"), model)
    result = await llm_work(tools=[add, fail], output=Total, tool_mode="json")(ctx.task, ctx)
    assert result == {"total": 42, "note": ""}
    tools, envelope = formats[0]
    assert tools is None  # no native tools in json mode
    branches = envelope["anyOf"]
    assert [b["properties"]["tool"]["const"] for b in branches[:2]] == ["add", "fail"]
    assert branches[0]["properties"]["arguments"]["required"] == ["a", "b"]
    assert branches[2]["properties"]["answer"]["required"] == ["total"]
    assert ctx.events.kinds() == ["llm_turn", "llm_repair", "llm_turn", "tool_call", "llm_turn", "llm_answer"]


async def test_a_schema_hook_narrows_the_schema_per_task() -> None:
    sent: list[Any] = []

    def responder(messages: list[Message], response_format: Any = None) -> str:
        sent.append(response_format)
        return '{"answer": "red"}'

    def hook(task: Any, schema: dict[str, Any]) -> dict[str, Any]:
        schema["anyOf"][-1]["properties"]["answer"] = {"enum": task.input["choices"]}
        return schema

    ctx = Ctx(
        Task("t", "colour?", input={"choices": ["dog", "red"]}), SimulatedModel(latency=FAST, responder=responder)
    )
    assert await llm_work(tool_mode="json", schema_hook=hook)(ctx.task, ctx) == "red"
    assert sent[0]["anyOf"][-1]["properties"]["answer"] == {"enum": ["dog", "red"]}


class Person(BaseModel):
    name: str
    age: int


@function_tool
def register(person: Person, city: str = "Oslo") -> str:
    """Register a person."""
    return f"{person.name} ({person.age}) in {city}"


@pytest.mark.parametrize("mode", ["native", "json"])
async def test_the_default_simulated_model_completes_a_tool_task_in_both_modes(mode: str) -> None:
    model = default_llm_model(seed=3)
    model.latency = FAST  # type: ignore[attr-defined]
    ctx = Ctx(Task("t", "register", input={"name": "Ada", "total": 7}), model)
    result = await llm_work(tools=[register, add], output=Total, tool_mode=mode)(ctx.task, ctx)  # type: ignore[arg-type]
    assert result == {"total": 7, "note": ""}  # "total" taken from the task's input
    calls = [f for k, f in ctx.events.seen if k == "tool_call"]
    assert calls == [{"tool": "register", "ok": True, "error": None}]


async def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="max_turns"):
        llm_work(max_turns=0)
    with pytest.raises(ValueError, match="tool_mode"):
        llm_work(tool_mode="xml")  # type: ignore[arg-type]


async def test_cancellation_of_a_model_call_propagates() -> None:
    model = SimulatedModel(latency=Latency(median_s=5.0, sigma=0.0))
    ctx = Ctx(Task("t", "slow"), model)
    with anyio.move_on_after(0.05) as scope:
        await llm_work()(ctx.task, ctx)
    assert scope.cancelled_caught


def test_the_stand_in_completion_type_is_the_protocol_one() -> None:
    assert Completion(text="", tool_calls=tuple(call("add", "{}"))).tool_calls[0].name == "add"
    assert ToolSpec(name="add").parameters == {"type": "object", "properties": {}}


async def test_require_tool_offers_only_calls_until_one_succeeds() -> None:
    formats: list[Any] = []

    def responder(messages: list[Message], response_format: Any = None) -> str:
        formats.append(response_format)
        if len(formats) == 1:
            return '{"answer": "too early"}'  # without a grammar a model may still answer: fed back
        if len(formats) == 2:
            return '{"tool": "add", "arguments": {"a": 1, "b": 2}}'
        return '{"answer": "3"}'

    ctx = Ctx(Task("t", "add"), SimulatedModel(latency=FAST, responder=responder))
    assert await llm_work(tools=[add], tool_mode="json", require_tool=True)(ctx.task, ctx) == "3"
    assert [len(f["anyOf"]) for f in formats] == [1, 1, 2]  # calls only, calls only, then calls or answer
    assert (
        "call one of the tools (add) before you answer"
        in [e["error"] for k, e in ctx.events.seen if k == "llm_repair"][0]
    )


async def test_require_tool_natively_asks_for_tool_choice_required() -> None:
    seen: list[Any] = []

    class Recorder(SimulatedModel):
        async def complete(self, messages: Any, **params: Any) -> Completion:
            seen.append(params.get("tool_choice"))
            return await super().complete(messages, **params)

    model, _ = script(call("add", '{"a": 1, "b": 2}'), "3")
    recorder = Recorder(latency=FAST, responder=model.responder)
    ctx = Ctx(Task("t", "add"), recorder)
    assert await llm_work(tools=[add], require_tool=True)(ctx.task, ctx) == "3"
    assert seen == ["required", None]


async def test_constrain_false_sends_no_response_format() -> None:
    sent: list[Any] = []

    def responder(messages: list[Message], response_format: Any = None) -> str:
        sent.append(response_format)
        return '{"answer": "x"}'

    ctx = Ctx(Task("t", "x"), SimulatedModel(latency=FAST, responder=responder))
    assert await llm_work(tool_mode="json", constrain=False)(ctx.task, ctx) == "x"
    assert sent == [None]
