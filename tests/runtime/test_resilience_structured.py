from __future__ import annotations

import anyio
import pytest
from pydantic import BaseModel, Field

from lmteams.runtime.errors import OutputParseError, RateLimited
from lmteams.runtime.models.base import Completion, Message
from lmteams.runtime.resilience import JSONExtractError, complete_structured, extract_json

from .test_resilience_doubles import Events, ScriptedModel

pytestmark = pytest.mark.timeout(30)


class Person(BaseModel):
    name: str
    age: int
    email: str | None = Field(default=None, alias="emailAddress")


PROMPT = [{"role": "user", "content": "Give me a person as JSON."}]


def caller(model: ScriptedModel):  # noqa: ANN201
    async def call_model(messages: list[Message]) -> Completion:
        return await model.complete(messages)

    return call_model


# -- extraction -------------------------------------------------------------------------


def test_extract_from_a_fenced_json_block_ignores_braces_in_prose() -> None:
    text = 'Sure {see below}:\n```json\n{"name": "Ada", "age": 36}\n```\nHope that helps {:'
    assert extract_json(text) == {"name": "Ada", "age": 36}


def test_extract_from_an_unlabelled_fence() -> None:
    assert extract_json('```\n{"a": 1}\n```') == {"a": 1}


def test_extract_the_first_top_level_object_from_bare_text() -> None:
    text = 'Use {placeholders} like so: {"a": {"b": [1, 2]}, "c": "}"} and then {"second": true}'
    assert extract_json(text) == {"a": {"b": [1, 2]}, "c": "}"}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("no json here", "no JSON object found"),
        ('{"a": 1,, }', "not valid JSON"),
        ('```json\n{"a": }\n```', "```json block is not valid JSON"),
    ],
)
def test_extract_errors_say_why(text: str, why: str) -> None:
    with pytest.raises(JSONExtractError, match=why):
        extract_json(text)


# -- the repair loop -------------------------------------------------------------------


@pytest.mark.anyio
async def test_fenced_json_parses_first_time() -> None:
    model = ScriptedModel("m", ['Here:\n```json\n{"name": "Ada", "age": 36, "emailAddress": "a@x"}\n```'])
    person, completions = await complete_structured(caller(model), PROMPT, Person)
    assert person == Person(name="Ada", age=36, emailAddress="a@x")
    assert len(completions) == 1 and model.calls == 1


@pytest.mark.anyio
async def test_bare_json_parses() -> None:
    model = ScriptedModel("m", ['The person is {"name": "Bo", "age": 7}. Done.'])
    person, _ = await complete_structured(caller(model), PROMPT, Person)
    assert person.name == "Bo" and person.age == 7


@pytest.mark.anyio
async def test_garbage_then_repair_succeeds_and_the_repair_message_carries_the_error() -> None:
    events = Events()
    model = ScriptedModel("m", ["I cannot do JSON today", '{"name": "Cy", "age": 40}'])
    prompt = list(PROMPT)
    person, completions = await complete_structured(caller(model), prompt, Person, on_event=events)
    assert person.name == "Cy" and len(completions) == 2
    assert prompt == PROMPT  # the caller's list is not changed
    second = model.seen[1]
    assert [m.role for m in second] == ["user", "assistant", "user"]
    assert second[1].content == "I cannot do JSON today"
    repair = second[2].content
    assert "no JSON object found in the reply" in repair
    assert "name (string, required)" in repair and "age (integer, required)" in repair
    assert "emailAddress" in repair  # the JSON (alias) name, not the Python name
    assert events.named("parse_retry") == [{"attempt": 1, "error": "no JSON object found in the reply"}]


@pytest.mark.anyio
async def test_a_validation_error_is_fed_back_precisely() -> None:
    model = ScriptedModel("m", ['{"name": "Di", "age": "ten"}', '{"name": "Di", "age": 10}'])
    person, completions = await complete_structured(caller(model), PROMPT, Person)
    assert person.age == 10 and len(completions) == 2
    repair = model.seen[1][-1].content
    assert "age: Input should be a valid integer" in repair and '"ten"' in repair


@pytest.mark.anyio
async def test_a_missing_field_is_named() -> None:
    model = ScriptedModel("m", ['{"name": "Ed"}', '{"name": "Ed", "age": 1}'])
    await complete_structured(caller(model), PROMPT, Person)
    assert "age: Field required" in model.seen[1][-1].content


@pytest.mark.anyio
@pytest.mark.parametrize("max_repairs", [0, 2, 3])
async def test_garbage_forever_raises_output_parse_error_after_max_repairs_plus_one_calls(max_repairs: int) -> None:
    events = Events()
    model = ScriptedModel("m", ["nope", "still nope", "[1, 2, 3] is not an object"])
    with pytest.raises(OutputParseError) as info:
        await complete_structured(caller(model), PROMPT, Person, max_repairs=max_repairs, on_event=events)
    assert model.calls == max_repairs + 1
    assert info.value.reply == model.script[min(max_repairs, 2)]
    assert info.value.retryable is False and "Person" in str(info.value)
    assert len(events.named("parse_retry")) == max_repairs
    # each call sees the whole conversation so far: prompt + (reply, repair) per failed attempt
    assert [len(m) for m in model.seen] == [1 + 2 * i for i in range(max_repairs + 1)]


@pytest.mark.anyio
async def test_errors_from_the_model_call_propagate_unchanged() -> None:
    model = ScriptedModel("m", [RateLimited("429", retry_after=1.0)])
    with pytest.raises(RateLimited):
        await complete_structured(caller(model), PROMPT, Person)


@pytest.mark.anyio
async def test_cancellation_during_a_call_propagates_in_real_time() -> None:
    async def hangs(messages: list[Message]) -> Completion:
        await anyio.sleep(30)
        raise AssertionError("not reached")

    with anyio.move_on_after(0.05) as scope:
        await complete_structured(hangs, PROMPT, Person)
    assert scope.cancelled_caught
