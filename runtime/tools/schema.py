"""A function's signature and docstring as a pydantic model and a JSON schema.

As openai-agents' ``function_tool`` does: each parameter becomes a field of a
pydantic model (its annotation, its default, its description from the
docstring), and the model's JSON schema is what the model sees. Google style
(``Args:``) and Sphinx style (``:param x:``) docstrings are read; the text
before them is the tool's description.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from lmteams.runtime.errors import LmTeamsError


class ToolDefinitionError(LmTeamsError, TypeError):
    """A function cannot be a tool (``*args``, a missing annotation, a bad name...); the message says what to change."""


_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Returns|Return|Raises|Yields|Examples?|Notes?)\s*:\s*$")
_GOOGLE_ARG = re.compile(r"^\s*\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_ARG = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The description (text before any section) and each parameter's description."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in lines:
        sphinx = _SPHINX_ARG.match(line)
        if sphinx:
            current, section = sphinx.group(1), "sphinx"
            params[current] = sphinx.group(2).strip()
            continue
        if line.strip().startswith(":"):  # :returns:, :raises: ...
            section, current = "other", None
            continue
        heading = _SECTION.match(line)
        if heading:
            section = "args" if heading.group(1) in ("Args", "Arguments", "Parameters") else "other"
            current = None
            continue
        if section is None:
            description.append(line)
        elif section == "args":
            arg = _GOOGLE_ARG.match(line)
            indent = len(line) - len(line.lstrip())
            if arg and (current is None or indent <= _indent_of(lines, current)):
                current = arg.group(1)
                params[current] = arg.group(2).strip()
            elif current is not None and line.strip():
                params[current] = f"{params[current]} {line.strip()}".strip()
        elif section == "sphinx" and current is not None and line.strip():
            params[current] = f"{params[current]} {line.strip()}".strip()
    return " ".join(" ".join(description).split()), params


def _indent_of(lines: list[str], name: str) -> int:
    for line in lines:
        m = _GOOGLE_ARG.match(line)
        if m and m.group(1) == name:
            return len(line) - len(line.lstrip())
    return 0


def arguments_model(fn: Callable[..., Any], name: str, param_docs: dict[str, str]) -> type[BaseModel]:
    """A pydantic model with one field per parameter of ``fn`` (extra arguments are refused)."""
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # a forward reference that does not resolve
        raise ToolDefinitionError(f"tool {name!r}: cannot resolve the type hints of {fn!r}: {exc}") from exc
    fields: dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolDefinitionError(
                f"tool {name!r}: *{param.name} / **{param.name} cannot be described to a model; "
                "give the function named, typed parameters"
            )
        if param.name not in hints:
            raise ToolDefinitionError(
                f"tool {name!r}: parameter {param.name!r} has no type annotation; annotate it "
                f"(e.g. `{param.name}: str`) so the model is told what to pass"
            )
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (hints[param.name], Field(default, description=param_docs.get(param.name)))
    model_name = "".join(part.capitalize() for part in re.split(r"[_\W]+", name) if part) + "Args"
    return create_model(model_name, __config__=ConfigDict(extra="forbid"), **fields)


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The arguments' JSON schema, without pydantic's generated titles (noise in a prompt)."""
    schema = model.model_json_schema()
    return _drop_titles(schema, top=True)


def _drop_titles(node: Any, *, top: bool = False) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "title" and isinstance(value, str):
                continue
            if key in ("properties", "$defs") and isinstance(value, dict):
                out[key] = {k: _drop_titles(v) for k, v in value.items()}  # field names, not keywords
            else:
                out[key] = _drop_titles(value)
        if top:
            out.setdefault("properties", {})
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_drop_titles(v) for v in node]
    return node
