"""Bundled task suites and the scripted responder that "solves" them offline.

A suite is a directory holding a task graph (``graph.yaml``), a reference
solution for every file a task writes (``solutions/<path>``), a deliberately
buggy variant of it (``buggy/<path>``) and each task's acceptance tests
(``tests/...``, paths relative to the directory of ``graph.yaml``).

``lmteams demo`` runs a team on the bundled ``coding`` suite with a
``SimulatedModel`` whose responder comes from ``make_responder``: it reads
the task id the agent put in its prompt (a line ``TASK-ID: <id>``) and
replies with a ``FileReply`` holding the reference solution, or with a
seeded probability the buggy variant, so the task's tests really run, and
sometimes really fail, on the files the agent writes. That is a simulator
of a coding model, not one: it only knows the suite's answers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lmteams.runtime.errors import LmTeamsError, OutputParseError, TaskGraphError
from lmteams.runtime.graph import TaskGraph, check_relative_path
from lmteams.runtime.models.base import Message, MessagesLike, as_messages
from lmteams.runtime.testrunner import MissingTestFiles, install_tests

__all__ = [
    "FILE_REPLY_INSTRUCTIONS",
    "TASK_ID_PREFIX",
    "TESTS_FAILED_MARKER",
    "FileEdit",
    "FileReply",
    "Suite",
    "SuiteError",
    "SuiteTask",
    "UnknownTaskError",
    "coding_suite",
    "find_task_id",
    "make_responder",
    "write_files",
]

#: The agent names the task it works on with a line ``TASK-ID: <id>`` in its prompt.
TASK_ID_PREFIX = "TASK-ID:"
#: A user message containing this marker reports failed tests and asks for a fix.
TESTS_FAILED_MARKER = "TESTS FAILED"

_SUITES_DIR = Path(__file__).resolve().parent


class SuiteError(LmTeamsError):
    """A suite directory is malformed: unreadable graph, a missing solution or test file, an unsafe path."""


class UnknownTaskError(SuiteError, KeyError):
    """The suite has no task with this id."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


# -- paths --------------------------------------------------------------------------


def _safe_relative(path: str, *, what: str) -> str:
    """``path`` without ``.`` parts, checked by ``check_relative_path``; ValueError naming ``what``."""
    if not isinstance(path, str):
        raise ValueError(f"{what} must be a relative path, got {path!r}")
    try:
        return check_relative_path("/".join(part for part in path.split("/") if part != "."))
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def write_files(workspace: Path, files: Mapping[str, str]) -> list[Path]:
    """Write ``{relative path: content}`` under ``workspace`` (creating directories); returns the paths written.

    Every path is checked first, so an unsafe one (absolute, ``..``) raises
    ``ValueError`` before anything is written.
    """
    workspace = Path(workspace)
    checked = [(_safe_relative(path, what="file path"), content) for path, content in files.items()]
    written = []
    for rel, content in checked:
        target = workspace / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        written.append(target)
    return written


# -- the reply format ---------------------------------------------------------------


class FileEdit(BaseModel):
    """One whole file to write: ``path`` relative to the workspace, ``content`` its full text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    content: str

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        return _safe_relative(value, what="path")


class FileReply(BaseModel):
    """What a coding agent asks its model for: the files to write, and free-text notes.

    On the wire it is a JSON object inside a fenced ```json block:
    ``{"files": [{"path": "...", "content": "..."}], "notes": "..."}``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    files: list[FileEdit] = Field(min_length=1)
    notes: str = ""

    def to_text(self) -> str:
        """The reply as a fenced ```json block."""
        return "```json\n" + self.model_dump_json(indent=2) + "\n```"

    @classmethod
    def from_text(cls, text: str) -> FileReply:
        """Parse a model's reply the way ``runtime.resilience.structured`` does (a ```json block first).

        Raises ``OutputParseError`` (with the reply attached) when there is no
        JSON or it does not match the schema.
        """
        from lmteams.runtime.resilience.structured import JSONExtractError, extract_json

        try:
            return cls.model_validate(extract_json(text))
        except JSONExtractError as exc:
            raise OutputParseError(
                f"the reply holds no FileReply: {exc}; {FILE_REPLY_INSTRUCTIONS}", reply=text
            ) from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "reply"
            raise OutputParseError(
                f"the reply is not a valid FileReply ({where}: {first.get('msg')}); {FILE_REPLY_INSTRUCTIONS}",
                reply=text,
            ) from exc


#: Text an agent can put in its prompt so a real model answers in ``FileReply`` form.
FILE_REPLY_INSTRUCTIONS = (
    "Reply with one fenced ```json block holding an object "
    '{"files": [{"path": "<path relative to the workspace>", "content": "<the whole file>"}], '
    '"notes": "<anything the team should know>"}. Write whole files, not diffs.'
)


# -- suites -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SuiteTask:
    """What a suite knows about one task: the files it writes and its test files."""

    id: str
    title: str
    files: tuple[str, ...]
    tests: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Suite:
    """A task suite on disk. Build one with ``Suite.load(graph_path)`` or ``coding_suite()``."""

    name: str
    graph_path: Path
    root: Path
    tasks: Mapping[str, SuiteTask] = field(repr=False, compare=False)
    graph: TaskGraph = field(repr=False, compare=False)

    @classmethod
    def load(cls, graph_path: Path | str) -> Suite:
        """Load ``graph_path`` with ``TaskGraph.from_file`` (the one loader) for each task's files and tests."""
        graph_path = Path(graph_path).resolve()
        try:
            graph = TaskGraph.from_file(graph_path)
        except TaskGraphError as exc:
            raise SuiteError(str(exc)) from exc
        tasks = {
            t.id: SuiteTask(id=t.id, title=t.title, files=tuple(t.files), tests=tuple(t.tests)) for t in graph.tasks
        }
        return cls(
            name=graph.name,
            graph_path=graph_path,
            root=graph_path.parent,
            tasks=MappingProxyType(tasks),
            graph=graph,
        )

    # -- lookup

    @property
    def task_ids(self) -> list[str]:
        """Task ids in the order of the graph file."""
        return list(self.tasks)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self.tasks

    def __iter__(self) -> Iterator[str]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def task(self, task_id: str) -> SuiteTask:
        try:
            return self.tasks[task_id]
        except KeyError:
            known = ", ".join(self.tasks)
            raise UnknownTaskError(f"suite {self.name!r} has no task {task_id!r}; its tasks are: {known}") from None

    def solution(self, task_id: str) -> dict[str, str]:
        """The reference solution of ``task_id``: ``{path: content}`` for every file it writes."""
        return {path: self._read("solutions", path, task_id) for path in self.task(task_id).files}

    def has_buggy(self, task_id: str) -> bool:
        """Whether ``task_id`` has a buggy variant of at least one of its files."""
        return any((self.root / "buggy" / path).is_file() for path in self.task(task_id).files)

    def buggy(self, task_id: str) -> dict[str, str]:
        """The buggy variant of ``task_id``: like ``solution`` but with ``buggy/<path>`` where one exists."""
        if not self.has_buggy(task_id):
            raise SuiteError(f"suite {self.name!r}: task {task_id!r} has no buggy variant under {self.root / 'buggy'}")
        files = {}
        for path in self.task(task_id).files:
            kind = "buggy" if (self.root / "buggy" / path).is_file() else "solutions"
            files[path] = self._read(kind, path, task_id)
        return files

    def test_files(self, task_id: str) -> list[str]:
        """``task_id``'s test files, relative to the suite root and, once installed, to the workspace."""
        return list(self.task(task_id).tests)

    def all_test_files(self) -> list[str]:
        """Every task's test files, each once, in graph order."""
        return list(dict.fromkeys(path for task in self.tasks.values() for path in task.tests))

    def install_tests(self, workspace: Path) -> list[str]:
        """Copy every test file into ``workspace`` at the same relative path; returns those paths."""
        try:
            return install_tests(self.graph, Path(workspace))
        except MissingTestFiles as exc:
            raise SuiteError(f"suite {self.name!r}: {exc}") from exc

    def _read(self, kind: str, path: str, task_id: str) -> str:
        source = self.root / kind / path
        try:
            return source.read_text(encoding="utf-8")
        except OSError as exc:
            raise SuiteError(
                f"suite {self.name!r}: task {task_id!r} has no {kind} file for {path} ({source}): {exc}"
            ) from exc


def coding_suite() -> Suite:
    """The bundled ``textkit`` coding suite (16 tasks)."""
    return Suite.load(_SUITES_DIR / "coding" / "graph.yaml")


# -- the responder ------------------------------------------------------------------


def find_task_id(messages: MessagesLike) -> str | None:
    """The id on a ``TASK-ID: <id>`` line of the last user message that has one, or None."""
    for message in reversed(as_messages(messages)):
        if message.role != "user":
            continue
        for line in message.content.splitlines():
            line = line.strip()
            if line.startswith(TASK_ID_PREFIX):
                task_id = line[len(TASK_ID_PREFIX) :].strip()
                if task_id:
                    return task_id
    return None


def make_responder(suite: Suite, *, bug_rate: float = 0.0, seed: int = 0) -> Callable[[list[Message]], str]:
    """A ``SimulatedModel`` responder that answers ``suite``'s tasks with ``FileReply`` JSON.

    The task id comes from a ``TASK-ID: <id>`` line (see ``find_task_id``).
    The reply carries the reference solution; with probability ``bug_rate``
    it carries the buggy variant instead, decided by
    ``random.Random(f"{seed}:{task_id}:{attempt}")`` where ``attempt`` counts
    the user messages containing ``TESTS FAILED``. Once the conversation
    holds such a message the reply is always the reference solution, so a
    repair succeeds. Deterministic: the same messages give the same reply.
    An unknown or missing task id gets a polite reply with no JSON in it.
    """
    if not 0.0 <= bug_rate <= 1.0:
        raise ValueError(f"bug_rate must be between 0 and 1, got {bug_rate}")

    def respond(messages: list[Message]) -> str:
        conversation = as_messages(messages)
        task_id = find_task_id(conversation)
        if task_id is None:
            return f"I'm sorry, I can't tell which task you want: please name it on a line '{TASK_ID_PREFIX} <id>'."
        if task_id not in suite:
            return (
                f"I'm sorry, I don't know a task called {task_id!r} in the {suite.name} suite, "
                "so I have no files to give you."
            )
        attempt = sum(1 for m in conversation if m.role == "user" and TESTS_FAILED_MARKER in m.content)
        use_bug = (
            attempt == 0
            and bug_rate > 0.0
            and random.Random(f"{seed}:{task_id}:{attempt}").random() < bug_rate
            and suite.has_buggy(task_id)
        )
        files = suite.buggy(task_id) if use_bug else suite.solution(task_id)
        task = suite.task(task_id)
        action = "fixed" if attempt else "implemented"
        reply = FileReply(
            files=[FileEdit(path=path, content=content) for path, content in files.items()],
            notes=f"{action.capitalize()} {task.title.lower()} ({', '.join(task.files)}).",
        )
        return f"Here is the {action} code for task {task_id}.\n\n{reply.to_text()}\n"

    return respond
