"""The ``tiny`` suite: short extraction and classification tasks sized for a 135M-parameter model.

Each task is answered through a tool and checked exactly: the model must
pick the right tool, call it, and copy its result into the answer. The
tools do the knowing (which word is a colour, where the year is); what is
tested is whether the model follows the protocol. Under a JSON grammar
(``tool_mode="json"`` with the schema sent as ``response_format``, and
``schema_hook`` pinning a call's arguments to the task's own input) the
bundled SmolLM2-135M does; without the grammar it almost never writes a
well-formed call. That is what a tiny local model can do: follow a format,
copy a value. It cannot reason its way to an answer the tools do not give.

``tiny_work(model)`` is the work function (``llm_work`` plus the exact
check: a wrong answer raises ``WrongAnswer``, so the gate fails the attempt);
``tiny_tasks()`` the tasks, each with its expected answer.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lmteams.runtime.errors import LmTeamsError
from lmteams.runtime.tools import Tool, function_tool
from lmteams.runtime.work.llm import llm_work

COLOURS = frozenset("red orange yellow green blue purple violet pink brown black white grey gray gold silver".split())

SYSTEM = "You answer short questions by calling one tool and then giving its result as the answer."


class WrongAnswer(LmTeamsError):
    """The model's final answer is not the task's expected answer."""


@function_tool
def extract_year(text: str) -> str:
    """Find the year (four digits) mentioned in a text.

    Args:
        text: the text to search.
    """
    found = re.findall(r"\b(1[0-9]{3}|20[0-9]{2})\b", text)
    return found[0] if found else "no year"


@function_tool
def find_colour(words: list[str]) -> str:
    """Find which of the words is a colour.

    Args:
        words: the words to look at.
    """
    colours = [w for w in words if w.lower() in COLOURS]
    return colours[0] if colours else "no colour"


@function_tool
def largest_number(numbers: list[int]) -> int:
    """Find the largest of some numbers.

    Args:
        numbers: the numbers to compare.
    """
    return max(numbers)


TOOLS: tuple[Tool, ...] = (extract_year, find_colour, largest_number)


@dataclass(frozen=True, slots=True)
class TinyTask:
    id: str
    title: str
    input: dict[str, Any]
    expected: str


_YEARS = [
    ("The Eiffel Tower was finished in 1889 after 2 years of building.", "1889"),
    ("In 1969 three astronauts flew to the Moon.", "1969"),
    ("The old bridge, 40 metres long, opened in 1932.", "1932"),
    ("She was born in 2004 and has 3 brothers.", "2004"),
]
_COLOURS = [
    (["dog", "blue", "table"], "blue"),
    (["green", "chair", "river"], "green"),
    (["house", "cat", "red"], "red"),
    (["apple", "yellow", "book"], "yellow"),
]
_NUMBERS = [([3, 17, 8], "17"), ([42, 7, 19, 30], "42")]


def tiny_tasks() -> list[TinyTask]:
    """Ten tasks: four years to extract, four colours to pick out, two largest numbers."""
    tasks = [
        TinyTask(f"year-{i}", "In which year did this happen?", {"text": text}, want)
        for i, (text, want) in enumerate(_YEARS, 1)
    ]
    tasks += [
        TinyTask(f"colour-{i}", "Which of these words is a colour?", {"words": words}, want)
        for i, (words, want) in enumerate(_COLOURS, 1)
    ]
    tasks += [
        TinyTask(f"largest-{i}", "Which is the largest number?", {"numbers": nums}, want)
        for i, (nums, want) in enumerate(_NUMBERS, 1)
    ]
    return tasks


def answer_schema(payload: dict[str, Any]) -> dict[str, Any]:
    """The shape of a task's answer, from its input: one of the words, one of the numbers, or a year."""
    if "words" in payload:
        return {"enum": list(payload["words"])}
    if "numbers" in payload:
        return {"enum": [str(n) for n in payload["numbers"]]}
    return {"type": "string", "pattern": "^[12][0-9]{3}$"}


def constrain_to_task(task: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """Per-task constraints on the json envelope, all derived from the task's input.

    - only the tools the input can feed are offered (each required argument is a key of the input);
    - those arguments are pinned to the input's values, so a tiny model cannot garble them;
    - the answer has the task's shape (``answer_schema``).

    The model still has to call the tool, and to pick the answer the tool gave.
    """
    schema = copy.deepcopy(schema)
    payload = getattr(task, "input", None) or {}
    kept = []
    for branch in schema.get("anyOf", []):
        props = branch.get("properties", {})
        if "answer" in props:
            props["answer"] = answer_schema(payload)
            kept.append(branch)
            continue
        args = props.get("arguments")
        if not isinstance(args, dict) or not set(args.get("required", [])) <= set(payload):
            continue
        for name in list(args.get("properties", {})):
            if name in payload:
                args["properties"][name] = {"const": payload[name]}
        kept.append(branch)
    schema["anyOf"] = kept
    return schema


def tiny_llm_work(*, max_turns: int = 4, max_repairs: int = 1, schema: bool = True) -> Callable[..., Awaitable[Any]]:
    """``llm_work`` as the tiny suite runs it: json tool mode, arguments pinned to the task's input."""
    return llm_work(
        tools=TOOLS,
        system=SYSTEM,
        tool_mode="json",
        schema_hook=constrain_to_task,
        constrain=schema,
        require_tool=True,
        answer_after_tool=True,
        max_turns=max_turns,
        max_repairs=max_repairs,
        max_tokens=96,
    )


def tiny_work(expected: dict[str, str] | None = None, **kwargs: Any) -> Callable[..., Awaitable[Any]]:
    """The tiny suite's work function: the tool loop, then the exact check against the expected answer."""
    answers = expected if expected is not None else {t.id: t.expected for t in tiny_tasks()}
    loop = tiny_llm_work(**kwargs)

    async def work(task: Any, ctx: Any) -> str:
        answer = str(await loop(task, ctx)).strip()
        want = answers.get(task.id)
        if want is not None and answer != want:
            raise WrongAnswer(f"task {task.id!r}: the answer {answer!r} is not the expected {want!r}")
        return answer

    return work


def tiny_graph_spec() -> dict[str, Any]:
    """The suite as a task graph mapping (``TaskGraph.model_validate``): independent tasks with an input each."""
    return {
        "name": "tiny",
        "tasks": [{"id": t.id, "title": t.title, "input": t.input, "estimate": 1.0} for t in tiny_tasks()],
    }


# -- running the suite through the tool loop, without a team -------------------------------


@dataclass(slots=True)
class TinyOutcome:
    """One task's run: the answer, whether it was right, and what it took."""

    task_id: str
    expected: str
    answer: str | None
    done: bool
    model_calls: int
    tool_calls: int
    parse_failures: int
    """Replies fed back because they did not parse as a call or an answer (``llm_repair`` events)."""
    seconds: float
    error: str | None = None


@dataclass(slots=True)
class _Events:
    seen: list[tuple[str, dict[str, Any]]]

    def emit(self, kind: str, **fields: Any) -> None:
        self.seen.append((kind, fields))


@dataclass(slots=True)
class _Context:
    """The part of a ``WorkContext`` the tool loop reads."""

    task: TinyTask
    model: Any
    events: _Events
    inputs: dict[str, Any]


async def run_tiny_suite(model: Any, *, schema: bool = True, tasks: list[TinyTask] | None = None) -> list[TinyOutcome]:
    """Each task once, in order, through the tiny suite's tool loop with ``model``; one outcome per task."""
    import time

    work = tiny_llm_work(schema=schema)
    outcomes = []
    for task in tasks if tasks is not None else tiny_tasks():
        events = _Events([])
        start = time.perf_counter()
        answer: str | None = None
        error = None
        try:
            answer = str(await work(task, _Context(task, model, events, {}))).strip()
        except LmTeamsError as exc:
            error = f"{type(exc).__name__}: {exc}"
        kinds = [k for k, _ in events.seen]
        outcomes.append(
            TinyOutcome(
                task_id=task.id,
                expected=task.expected,
                answer=answer,
                done=answer == task.expected,
                model_calls=kinds.count("llm_turn"),
                tool_calls=kinds.count("tool_call"),
                parse_failures=kinds.count("llm_repair"),
                seconds=time.perf_counter() - start,
                error=error,
            )
        )
    return outcomes
