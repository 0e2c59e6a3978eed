"""Tools from plain typed functions: schemas (defaults, Optional, nested models, docstrings),
validation before the call, and every failure fed back as text instead of raised."""

from __future__ import annotations

import json
from typing import Literal

import anyio
import pytest
from pydantic import BaseModel, Field

from lmteams.runtime.models.base import ToolSpec
from lmteams.runtime.tools import Tool, ToolDefinitionError, function_tool, parse_docstring, tool

pytestmark = pytest.mark.anyio


class Address(BaseModel):
    city: str
    zip: str = Field(pattern=r"^\d{5}$")


class Person(BaseModel):
    name: str
    age: int = Field(ge=0)
    address: Address | None = None


@function_tool
def greet(name: str, times: int = 1, shout: bool | None = None) -> str:
    """Greet someone by name.

    Args:
        name: who to greet.
        times: how often to say hello,
            at least once.
        shout: upper case when true.
    """
    text = " ".join(["hello"] * times) + f" {name}"
    return text.upper() if shout else text


@function_tool(name="register_person")
async def register(person: Person, tags: list[str] | None = None, mode: Literal["fast", "slow"] = "fast") -> dict:
    """Register a person.

    :param person: the person to register.
    :param tags: labels to attach.
    """
    await anyio.sleep(0)
    return {"name": person.name, "city": person.address.city if person.address else None, "tags": tags, "mode": mode}


def test_a_sync_function_with_defaults_and_optional_becomes_a_schema() -> None:
    assert isinstance(greet, Tool)
    spec = greet.spec
    assert isinstance(spec, ToolSpec) and spec.name == "greet"
    assert spec.description == "Greet someone by name."
    p = spec.parameters
    assert p["type"] == "object" and p["required"] == ["name"] and p["additionalProperties"] is False
    assert p["properties"]["name"] == {"type": "string", "description": "who to greet."}
    assert p["properties"]["times"]["default"] == 1 and p["properties"]["times"]["type"] == "integer"
    assert p["properties"]["times"]["description"] == "how often to say hello, at least once."
    assert p["properties"]["shout"]["anyOf"] == [{"type": "boolean"}, {"type": "null"}]
    assert "title" not in json.dumps(p)  # pydantic's titles are noise in a prompt


def test_an_async_function_with_nested_models_becomes_a_schema() -> None:
    spec = register.spec
    assert spec.name == "register_person" and spec.description == "Register a person."
    p = spec.parameters
    assert p["required"] == ["person"]
    assert p["properties"]["person"]["$ref"] == "#/$defs/Person"
    assert p["properties"]["person"]["description"] == "the person to register."
    assert set(p["$defs"]) == {"Person", "Address"}
    assert p["$defs"]["Address"]["properties"]["zip"]["pattern"] == r"^\d{5}$"
    assert p["properties"]["mode"]["enum"] == ["fast", "slow"]
    assert p["properties"]["tags"]["description"] == "labels to attach."


async def test_valid_arguments_call_the_function() -> None:
    r = await greet.invoke('{"name": "Ada", "times": 2, "shout": true}')
    assert r.ok and r.content == "HELLO HELLO ADA" and r.value == "HELLO HELLO ADA"
    r = await register.invoke({"person": {"name": "Bo", "age": 3, "address": {"city": "Oslo", "zip": "01234"}}})
    assert r.ok and json.loads(r.content) == {"name": "Bo", "city": "Oslo", "tags": None, "mode": "fast"}


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ('{"name": "Ada", "times": "many"}', "times: Input should be a valid integer"),
        ('{"times": 2}', "name: Field required"),
        ('{"name": "Ada", "loud": true}', "loud: Extra inputs are not permitted"),
        ('{"name": "Ada"', "not valid JSON"),
        ('["Ada"]', "must be a JSON object"),
    ],
)
async def test_bad_arguments_are_fed_back_and_the_function_is_not_called(arguments: str, words: str) -> None:
    calls: list[str] = []

    def record(name: str, times: int = 1) -> str:
        calls.append(name)
        return name

    r = await tool(record).invoke(arguments)
    assert not r.ok and words in r.content and r.content.startswith("error calling record:")
    assert '"required":["name"]' in r.content  # the model is shown what to pass
    assert calls == []


async def test_nested_validation_errors_name_the_path() -> None:
    r = await register.invoke('{"person": {"name": "Bo", "age": -1, "address": {"city": "Oslo", "zip": "12"}}}')
    assert not r.ok
    assert "person.age: Input should be greater than or equal to 0" in r.content
    assert "person.address.zip: String should match pattern" in r.content


async def test_raw_newlines_inside_strings_are_accepted() -> None:
    r = await greet.invoke('{"name": "Ada\nLovelace"}')
    assert r.ok and r.value == "hello Ada\nLovelace"


async def test_a_raising_tool_is_fed_back_not_raised() -> None:
    @function_tool
    async def divide(a: float, b: float) -> float:
        """Divide a by b."""
        return a / b

    r = await divide.invoke('{"a": 1, "b": 0}')
    assert not r.ok and "ZeroDivisionError" in r.content and r.error is not None
    assert (await divide.invoke('{"a": 1, "b": 4}')).value == 0.25


async def test_cancellation_is_not_swallowed() -> None:
    @function_tool
    async def slow() -> str:
        """Takes forever."""
        await anyio.sleep(10)
        return "never"

    with anyio.move_on_after(0.01) as scope:
        await slow.invoke("{}")
    assert scope.cancelled_caught


async def test_empty_arguments_mean_no_arguments_and_long_output_is_cut() -> None:
    long = tool(lambda: "x" * 50, name="long", max_output_chars=10)
    r = await long.invoke("")
    assert r.ok and r.content.startswith("x" * 10) and "40 more characters" in r.content


def test_functions_that_cannot_be_described_are_refused_clearly() -> None:
    def untyped(x):  # type: ignore[no-untyped-def]
        return x

    def star(*args: int) -> int:
        return 0

    with pytest.raises(ToolDefinitionError, match="no type annotation"):
        tool(untyped)
    with pytest.raises(ToolDefinitionError, match=r"\*args"):
        tool(star)
    with pytest.raises(ToolDefinitionError, match="name"):
        tool(lambda: 1)  # "<lambda>" is not a tool name


def test_docstring_styles() -> None:
    desc, params = parse_docstring(
        """Look things up.

        More detail here.

        Args:
            key (str): the key.
            default: what to return
                when missing.

        Returns:
            the value.
        """
    )
    assert desc == "Look things up. More detail here."
    assert params == {"key": "the key.", "default": "what to return when missing."}
    assert parse_docstring(":param a: first.\n:returns: x") == ("", {"a": "first."})
    assert parse_docstring(None) == ("", {})
