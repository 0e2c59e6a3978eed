"""Structured output: get a reply that validates against a pydantic schema, repairing it if needed.

``complete_structured`` asks the model, extracts JSON from the reply (the
first fenced ```json block, else the first fenced block holding JSON, else
the first top-level ``{...}`` object in the text), and validates it with
the schema. On failure it appends the model's reply and a user message
that quotes the exact error and names the fields expected, and asks again,
up to ``max_repairs`` times. Bad output always ends in
``OutputParseError(reply=last reply)``; errors from the model call itself
(rate limits, timeouts, cancellation...) propagate unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from lmteams.runtime.errors import OutputParseError
from lmteams.runtime.jsontext import lenient_decoder, loads_lenient
from lmteams.runtime.models.base import Completion, Message, MessagesLike, as_messages
from lmteams.runtime.resilience.events import EventSink, sink_or_null

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)
_MAX_QUOTED_ERRORS = 5


class JSONExtractError(ValueError):
    """No usable JSON in a reply; the message says why, for feeding back to the model."""


def extract_json(text: str) -> Any:
    """The JSON value in a model reply: a ```json block, a fenced block holding JSON, or the first ``{...}`` object."""
    fences = _FENCE.findall(text)
    for lang, body in fences:
        if lang.lower() == "json":
            try:
                return loads_lenient(body)
            except json.JSONDecodeError as exc:
                raise JSONExtractError(f"the ```json block is not valid JSON: {exc}") from None
    for _lang, body in fences:
        try:
            return loads_lenient(body)
        except json.JSONDecodeError:
            continue
    decoder = lenient_decoder()  # raw newlines inside strings are fine
    first_error: json.JSONDecodeError | None = None
    for match in re.finditer(r"\{", text):
        try:
            value, _end = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError as exc:
            first_error = first_error or exc
            continue
        if isinstance(value, dict):
            return value
    if first_error is not None:
        raise JSONExtractError(f"the reply's JSON object is not valid JSON: {first_error}")
    raise JSONExtractError("no JSON object found in the reply")


def expected_fields(schema: type[BaseModel]) -> str:
    """``name (string, required), tags (array)`` from the schema's JSON field names (aliases when set)."""
    js = schema.model_json_schema(by_alias=True)
    required = set(js.get("required", []))
    parts = []
    for field, spec in js.get("properties", {}).items():
        kind = spec.get("type")
        if kind is None and "anyOf" in spec:
            kind = " or ".join(str(s.get("type", s.get("$ref", "?")).split("/")[-1]) for s in spec["anyOf"])
        if kind is None and "$ref" in spec:
            kind = spec["$ref"].split("/")[-1]
        desc = str(kind or "any")
        if field in required:
            desc += ", required"
        parts.append(f"{field} ({desc})")
    return ", ".join(parts)


def describe_validation_error(exc: ValidationError) -> str:
    """A short, model-readable summary: ``age: Input should be a valid integer (got 'ten')``."""
    items = []
    for err in exc.errors(include_url=False)[:_MAX_QUOTED_ERRORS]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        got = err.get("input")
        shown = "" if err["type"] == "missing" else f" (got {json.dumps(got, default=repr)[:80]})"
        items.append(f"{loc}: {err['msg']}{shown}")
    more = exc.error_count() - _MAX_QUOTED_ERRORS
    if more > 0:
        items.append(f"and {more} more")
    return "; ".join(items)


async def complete_structured(
    call_model: Callable[[list[Message]], Awaitable[Completion]],
    messages: MessagesLike,
    schema: type[T],
    *,
    max_repairs: int = 2,
    on_event: EventSink | None = None,
) -> tuple[T, list[Completion]]:
    """Call the model until its reply validates as ``schema``; return the value and every completion made.

    Makes at most ``max_repairs + 1`` calls. Raises ``OutputParseError``
    (``reply`` = the last reply) when no reply validates.
    """
    if max_repairs < 0:
        raise ValueError(f"max_repairs must be >= 0, got {max_repairs}")
    emit = sink_or_null(on_event)
    convo = list(as_messages(messages))
    completions: list[Completion] = []
    expected = f"Expected a single JSON object for {schema.__name__} with fields: {expected_fields(schema)}."
    error = ""
    for attempt in range(1, max_repairs + 2):
        completion = await call_model(list(convo))
        completions.append(completion)
        text = completion.text
        try:
            return schema.model_validate(extract_json(text)), completions
        except JSONExtractError as exc:
            error = str(exc)
        except ValidationError as exc:
            error = f"validation failed: {describe_validation_error(exc)}"
        if attempt > max_repairs:
            break
        emit("parse_retry", {"attempt": attempt, "error": error})
        convo.append(Message(role="assistant", content=text))
        convo.append(
            Message(
                role="user",
                content=(
                    f"Your reply could not be used: {error}. {expected} "
                    "Reply again with only that JSON object, in a ```json block, and no other text."
                ),
            )
        )
    raise OutputParseError(
        f"the model's reply did not match {schema.__name__} after {len(completions)} attempt(s): {error}",
        model=completions[-1].model or None,
        reply=completions[-1].text,
    )
