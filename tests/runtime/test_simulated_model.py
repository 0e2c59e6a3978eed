"""SimulatedModel: seeded latency, tokens, cost and faults, independent of call order."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import anyio
import pytest

from lmteams.runtime.errors import ModelError, ModelTimeout, RateLimited, ServerError
from lmteams.runtime.models import (
    Completion,
    Latency,
    Message,
    Model,
    SimulatedModel,
    count_message_tokens,
    count_tokens,
    tokenize,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

FAST = Latency(time_scale=1e-4)


def prompt(i: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are agent-7."}, {"role": "user", "content": f"task {i}: do it"}]


async def outcome(model: SimulatedModel, messages: Any) -> str:
    """What a caller sees, as comparable text: the error type or the reply."""
    try:
        c = await model.complete(messages)  # with FAST, a timeout-mode call hangs only 1 ms
        return f"ok:{c.text}"
    except ModelError as e:
        return f"{type(e).__name__}"


def decisions(model: SimulatedModel) -> dict[tuple[str, int], tuple[str, float | None]]:
    return {(r.digest, r.k): (r.fault, r.latency_s) for r in model.history}


async def test_satisfies_the_model_protocol_and_acknowledges() -> None:
    model = SimulatedModel(latency=FAST)
    assert isinstance(model, Model)
    c = await model.complete([Message(role="user", content="hello there")])
    assert isinstance(c, Completion)
    assert c.text.startswith("ack:") and c.model == "simulated"
    again = await SimulatedModel(latency=FAST).complete([{"role": "user", "content": "hello there"}])
    assert again.text == c.text
    assert model.calls == 1


async def test_same_seed_same_latencies_and_faults_whatever_the_call_order() -> None:
    kw: dict[str, Any] = dict(seed=7, latency=FAST, fail_rate=0.2, timeout_rate=0.1, garbage_rate=0.2)
    prompts = [prompt(i) for i in range(12)] * 3  # each prompt three times: k = 0, 1, 2
    sequential, concurrent = SimulatedModel(**kw), SimulatedModel(**kw)

    seq_results: Counter[tuple[str, str]] = Counter()
    for p in prompts:
        seq_results[(json.dumps(p), await outcome(sequential, p))] += 1

    conc_results: Counter[tuple[str, str]] = Counter()

    async def one(p: Any) -> None:
        conc_results[(json.dumps(p), await outcome(concurrent, p))] += 1

    async with anyio.create_task_group() as tg:  # reversed and all at once: interleaved
        for p in reversed(prompts):
            tg.start_soon(one, p)

    assert decisions(sequential) == decisions(concurrent)
    assert seq_results == conc_results
    faults = Counter(fault for fault, _ in decisions(sequential).values())
    assert len(faults) >= 3, faults  # the seed exercises several kinds, so the comparison means something
    assert sequential.calls == concurrent.calls == len(prompts)


async def test_a_different_seed_draws_differently() -> None:
    a, b = SimulatedModel(seed=1, latency=FAST), SimulatedModel(seed=2, latency=FAST)
    for i in range(5):
        await a.complete(prompt(i))
        await b.complete(prompt(i))
    assert decisions(a) != decisions(b)


async def test_latency_follows_the_configured_distribution() -> None:
    lat = Latency(median_s=0.2, sigma=0.25, per_output_token_s=0.01, time_scale=1e-4)
    model = SimulatedModel(seed=3, latency=lat, responder=lambda m: "one two three four")
    for i in range(400):
        await model.complete(prompt(i))
    token_part = 1e-4 * 0.01 * 4
    drawn = [r.latency_s - token_part for r in model.history if r.latency_s is not None]
    logs = [math.log(d / (1e-4 * 0.2)) for d in drawn]
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    assert abs(mean) < 0.05 and 0.2 < sd < 0.3, (mean, sd)


async def test_the_model_really_waits_its_latency() -> None:
    model = SimulatedModel(latency=Latency(median_s=0.05, sigma=0.0))
    c = await model.complete(prompt(0))
    assert 0.045 <= c.latency_s < 1.0


async def test_fault_rates_roughly_match_over_many_calls() -> None:
    model = SimulatedModel(seed=11, latency=FAST, fail_rate=0.1, timeout_rate=0.05, garbage_rate=0.15)
    n = 2000
    seen: Counter[str] = Counter()
    for i in range(n):
        seen[await outcome(model, prompt(i))] += 1
    failed = seen["ServerError"] + seen["RateLimited"]
    garbage = sum(v for k, v in seen.items() if k.startswith("ok:") and not k.startswith("ok:ack:"))
    # binomial 3-sigma bands around the configured rates
    assert abs(failed / n - 0.10) < 3 * math.sqrt(0.10 * 0.90 / n), seen
    assert abs(seen["ModelTimeout"] / n - 0.05) < 3 * math.sqrt(0.05 * 0.95 / n), seen
    assert abs(garbage / n - 0.15) < 3 * math.sqrt(0.15 * 0.85 / n), seen


async def test_failures_are_retryable_and_alternate_503_and_429_per_prompt() -> None:
    model = SimulatedModel(latency=FAST, fail_rate=1.0)
    errors: list[ModelError] = []
    for _ in range(4):
        with pytest.raises(ModelError) as info:
            await model.complete(prompt(0))
        errors.append(info.value)
    assert [type(e) for e in errors] == [ServerError, RateLimited, ServerError, RateLimited]
    assert all(e.retryable and e.model == "simulated" for e in errors)
    assert "simulated 503" in str(errors[0])
    limited = errors[1]
    assert isinstance(limited, RateLimited) and limited.retry_after == pytest.approx(0.05 * 1e-4)
    with pytest.raises(ServerError):  # another prompt starts its own alternation
        await model.complete(prompt(1))


async def test_failures_wait_a_tenth_of_the_drawn_latency() -> None:
    model = SimulatedModel(latency=FAST, fail_rate=1.0)
    ok = SimulatedModel(latency=FAST)
    with pytest.raises(ServerError):
        await model.complete(prompt(0))
    await ok.complete(prompt(0))
    drawn = ok.history[0].latency_s
    assert drawn is not None and model.history[0].latency_s == pytest.approx(0.1 * drawn)


async def test_timeout_mode_hangs_then_raises_model_timeout() -> None:
    model = SimulatedModel(latency=Latency(median_s=0.2, time_scale=1e-3), timeout_rate=1.0)
    assert model.hang_s == pytest.approx(50 * 0.2 * 1e-3)
    start = anyio.current_time()
    with pytest.raises(ModelTimeout) as info:
        await model.complete(prompt(0))
    assert info.value.retryable
    assert anyio.current_time() - start >= 0.009


async def test_timeout_mode_is_cancelled_cleanly_by_the_callers_timeout() -> None:
    model = SimulatedModel(latency=Latency(median_s=0.2), timeout_rate=1.0)  # would hang 10 s
    start = anyio.current_time()
    with pytest.raises(TimeoutError):
        with anyio.fail_after(0.05):
            await model.complete(prompt(0))
    with anyio.move_on_after(0.05) as scope:
        await model.complete(prompt(1))
    assert scope.cancelled_caught
    assert anyio.current_time() - start < 1.0
    # the bookkeeping is intact and the instance still answers
    assert model.calls == 2 and [r.fault for r in model.history] == ["timeout", "timeout"]
    model.timeout_rate = 0.0
    with anyio.fail_after(5):
        assert (await model.complete(prompt(2))).text.startswith("ack:")


async def test_explicit_hang_s_is_used_as_is() -> None:
    model = SimulatedModel(latency=FAST, timeout_rate=1.0, hang_s=0.02)
    start = anyio.current_time()
    with pytest.raises(ModelTimeout):
        await model.complete(prompt(0))
    assert anyio.current_time() - start >= 0.019


async def test_garbage_is_seeded_and_never_json() -> None:
    model = SimulatedModel(seed=5, latency=FAST, garbage_rate=1.0, responder=lambda m: '{"never": "used"}')
    texts = [(await model.complete(prompt(i))).text for i in range(300)]
    for text in texts:
        assert text.strip()
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    assert len(set(texts)) > 250
    twin = SimulatedModel(seed=5, latency=FAST, garbage_rate=1.0)
    assert [(await twin.complete(prompt(i))).text for i in range(300)] == texts
    c = await twin.complete(prompt(0))
    assert c.usage.completion_tokens == count_tokens(c.text) > 0


def test_count_tokens_splits_words_numbers_and_punctuation_runs() -> None:
    assert tokenize("Hello, world! 42 apples... x_y") == [
        "Hello",
        ",",
        "world",
        "!",
        "42",
        "apples",
        "...",
        "x",
        "_",
        "y",
    ]
    assert count_tokens("") == 0
    assert count_tokens("   \n\t ") == 0
    assert count_tokens("abc123") == 2
    assert count_tokens("naïve café — déjà vu") == 5
    assert tokenize('{"a": [1, 2]}') == ['{"', "a", '":', "[", "1", ",", "2", "]}"]
    assert count_message_tokens([Message(role="user", content="a b"), Message(role="system", content="c")]) == 3


async def test_usage_and_cost() -> None:
    model = SimulatedModel(
        latency=FAST, responder=lambda m: "four tokens in reply", price_in_per_1k=2.0, price_out_per_1k=10.0
    )
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Sum 2 and 3, please."}]
    c = await model.complete(msgs)
    assert c.usage.prompt_tokens == 3 + 7  # Be brief . | Sum 2 and 3 , please .
    assert c.usage.completion_tokens == 4
    assert c.cost_usd == pytest.approx((10 * 2.0 + 4 * 10.0) / 1000)
    assert c.latency_s > 0
    free = await SimulatedModel(latency=FAST).complete(msgs)
    assert free.cost_usd == 0.0


async def test_sync_responder_sees_the_messages() -> None:
    seen: list[list[Message]] = []

    def responder(messages: list[Message]) -> str:
        seen.append(messages)
        return f"{messages[-1].role} said {messages[-1].content!r}"

    model = SimulatedModel(latency=FAST, responder=responder)
    c = await model.complete([{"role": "user", "content": "ping"}])
    assert c.text == "user said 'ping'"
    assert seen == [[Message(role="user", content="ping")]]


async def test_async_responder_is_awaited() -> None:
    async def responder(messages: list[Message]) -> str:
        await anyio.sleep(0)
        return json.dumps({"echo": [m.content for m in messages]})

    model = SimulatedModel(latency=FAST, responder=responder)
    c = await model.complete([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])
    assert json.loads(c.text) == {"echo": ["s", "u"]}


async def test_responder_must_return_text() -> None:
    model = SimulatedModel(latency=FAST, responder=lambda m: 42)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="must return str"):
        await model.complete(prompt(0))


def test_invalid_configuration_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="fail_rate"):
        SimulatedModel(fail_rate=1.5)
    with pytest.raises(ValueError, match="lower them"):
        SimulatedModel(fail_rate=0.6, garbage_rate=0.6)
    with pytest.raises(ValueError):
        Latency(median_s=-1)


async def test_instances_share_nothing() -> None:
    a, b = SimulatedModel(latency=FAST), SimulatedModel(latency=FAST)
    await a.complete(prompt(0))
    await a.complete(prompt(0))
    await b.complete(prompt(0))
    assert (a.calls, b.calls) == (2, 1)
    assert [r.k for r in a.history] == [0, 1] and [r.k for r in b.history] == [0]


# -- scripted tool calls ------------------------------------------------------


async def test_a_responder_can_script_tool_calls_and_sees_the_tools_offered() -> None:
    from lmteams.runtime.models import ToolCall, ToolSpec

    offered: list[Any] = []

    def responder(messages: list[Message], tools: Any = None) -> Any:
        offered.append(tools)
        if messages[-1].role == "tool":
            return f"the answer is {messages[-1].content}"
        return [ToolCall(id="c1", name="add", arguments='{"a": 2, "b": 3}')]

    spec = ToolSpec(name="add", parameters={"type": "object", "properties": {"a": {}, "b": {}}})
    model = SimulatedModel(latency=FAST, responder=responder)
    c = await model.complete([{"role": "user", "content": "2+3?"}], tools=[spec])
    assert c.text == "" and c.tool_calls == (ToolCall(id="c1", name="add", arguments='{"a": 2, "b": 3}'),)
    assert c.usage.completion_tokens == count_tokens('add{"a": 2, "b": 3}') > 0
    convo = [
        Message(role="user", content="2+3?"),
        Message(role="assistant", tool_calls=c.tool_calls),
        Message(role="tool", tool_call_id="c1", content="5"),
    ]
    final = await model.complete(convo, tools=[spec])
    assert final.text == "the answer is 5" and final.tool_calls == ()
    assert offered == [[spec], [spec]]


async def test_a_responder_may_return_a_completion_and_response_format_reaches_it() -> None:
    from lmteams.runtime.models import ToolCall

    async def responder(messages: list[Message], response_format: Any = None) -> Completion:
        call = ToolCall(id="x", name="look", arguments="{}")
        return Completion(text=json.dumps(response_format), tool_calls=(call,))

    c = await SimulatedModel(latency=FAST, responder=responder).complete(prompt(0), response_format={"type": "object"})
    assert json.loads(c.text) == {"type": "object"} and [t.name for t in c.tool_calls] == ["look"]
    # a responder that takes only the messages is called as before, whatever the call offers
    plain = await SimulatedModel(latency=FAST, responder=lambda m: "hi").complete(prompt(0), tools=[], max_tokens=5)
    assert plain.text == "hi"
