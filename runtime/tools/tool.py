"""``Tool``: a plain typed Python function (sync or async) that a model can call.

``@function_tool`` (or ``tool(fn)``) reads the function's signature and
docstring; ``Tool.spec`` is the ``ToolSpec`` a model is given. ``await
tool.invoke(arguments)`` takes the raw JSON text a model wrote, validates it
against the signature before calling, and always returns a ``ToolResult``:
arguments that do not parse or validate, and any exception the function
raises, come back as an error result whose text tells the model what went
wrong, so the model can try again; nothing but cancellation escapes.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, overload

from pydantic import BaseModel, ValidationError

from lmteams.runtime.jsontext import loads_lenient
from lmteams.runtime.models.base import ToolSpec
from lmteams.runtime.resilience.structured import describe_validation_error
from lmteams.runtime.tools.schema import ToolDefinitionError, arguments_model, json_schema, parse_docstring

DEFAULT_MAX_OUTPUT_CHARS = 4000
"""A tool's output beyond this is cut (and the model told so): small models have small contexts."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a call gave: ``content`` is the text the model sees; ``ok`` is False for an error fed back."""

    name: str
    content: str
    ok: bool
    value: Any = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Tool:
    """A function as a tool. Build it with ``function_tool`` / ``tool``."""

    name: str
    description: str
    fn: Callable[..., Any]
    arguments: type[BaseModel]
    parameters: dict[str, Any]
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS

    @property
    def spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)

    def parse_arguments(self, arguments: str | dict[str, Any] | None) -> BaseModel:
        """The validated arguments; ``ValueError`` (with a model-readable message) when they are not valid."""
        if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
            raw: Any = {}
        elif isinstance(arguments, str):
            try:
                raw = loads_lenient(arguments)
            except json.JSONDecodeError as exc:
                raise ValueError(f"the arguments are not valid JSON ({exc.msg} at position {exc.pos})") from None
        else:
            raw = arguments
        if not isinstance(raw, dict):
            raise ValueError(f"the arguments must be a JSON object, got {type(raw).__name__}")
        try:
            return self.arguments.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(f"invalid arguments: {describe_validation_error(exc)}") from None

    async def invoke(self, arguments: str | dict[str, Any] | None) -> ToolResult:
        """Validate ``arguments`` (raw JSON text or a dict), call the function, render its result."""
        try:
            parsed = self.parse_arguments(arguments)
        except ValueError as exc:
            return self._error(
                f"{exc}. The parameters are: {json.dumps(self.parameters, separators=(',', ':'))}. Call it again."
            )
        kwargs = {name: getattr(parsed, name) for name in type(parsed).model_fields}
        try:
            value = self.fn(**kwargs)
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # fed back to the model; cancellation (BaseException) still propagates
            return self._error(f"the tool raised {type(exc).__name__}: {exc}")
        return ToolResult(name=self.name, content=self._render(value), ok=True, value=value)

    def _error(self, message: str) -> ToolResult:
        text = f"error calling {self.name}: {message}"
        return ToolResult(name=self.name, content=self._cut(text), ok=False, error=message)

    def _render(self, value: Any) -> str:
        if isinstance(value, str):
            text = value
        elif isinstance(value, BaseModel):
            text = value.model_dump_json()
        else:
            try:
                text = json.dumps(value, ensure_ascii=False, default=_jsonable)
            except (TypeError, ValueError):
                text = repr(value)
        return self._cut(text)

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_output_chars:
            return text
        return text[: self.max_output_chars] + f"\n[... cut: {len(text) - self.max_output_chars} more characters]"

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly (awaited if it is async)."""
        value = self.fn(*args, **kwargs)
        return await value if inspect.isawaitable(value) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def tool(
    fn: Callable[..., Any] | Callable[..., Awaitable[Any]],
    *,
    name: str | None = None,
    description: str | None = None,
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
) -> Tool:
    """``fn`` as a ``Tool``: its name, its docstring's description, a schema from its typed parameters."""
    if isinstance(fn, Tool):
        return fn
    if not callable(fn):
        raise ToolDefinitionError(f"a tool must be a function, got {fn!r}")
    tool_name = str(name or getattr(fn, "__name__", ""))
    try:
        ToolSpec(name=tool_name)
    except ValidationError:
        raise ToolDefinitionError(
            f"tool name {tool_name!r} must be 1-64 letters, digits, '_' or '-'; pass name=..."
        ) from None
    doc_description, param_docs = parse_docstring(inspect.getdoc(fn))
    model = arguments_model(fn, tool_name, param_docs)
    return Tool(
        name=tool_name,
        description=description if description is not None else doc_description,
        fn=fn,
        arguments=model,
        parameters=json_schema(model),
        max_output_chars=max_output_chars,
    )


@overload
def function_tool(fn: Callable[..., Any], /) -> Tool: ...
@overload
def function_tool(
    *, name: str | None = None, description: str | None = None, max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS
) -> Callable[[Callable[..., Any]], Tool]: ...
def function_tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Decorator: ``@function_tool`` or ``@function_tool(name=..., description=...)``."""
    if fn is not None:
        return tool(fn, name=name, description=description, max_output_chars=max_output_chars)

    def wrap(f: Callable[..., Any]) -> Tool:
        return tool(f, name=name, description=description, max_output_chars=max_output_chars)

    return wrap


__all__ = ["Tool", "ToolDefinitionError", "ToolResult", "function_tool", "tool"]
