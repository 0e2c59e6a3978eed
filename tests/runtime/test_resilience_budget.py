from __future__ import annotations

import anyio
import pytest

from lmteams.runtime.errors import BudgetExceeded, ServerError
from lmteams.runtime.resilience import Budget, ResilientModel, Retry

from .test_resilience_doubles import Events, FakeClock, ScriptedModel, completion

pytestmark = pytest.mark.timeout(30)


MSGS = [{"role": "user", "content": "hi"}]


@pytest.mark.anyio
async def test_a_loop_of_calls_stops_at_the_token_limit_with_a_clear_message() -> None:
    events = Events()
    budget = Budget(max_tokens=350, on_event=events)
    model = ScriptedModel("m", ["answer"], tokens=100)
    rm = ResilientModel(model, budget=budget)
    done = 0
    with pytest.raises(BudgetExceeded) as info:
        for _ in range(100):
            await rm.complete(MSGS)
            done += 1
    assert done == 4 and model.calls == 4  # 0, 100, 200, 300 < 350; at 400 the 5th call is refused
    assert budget.used_tokens == 400 and budget.exceeded
    msg = str(info.value)
    assert "token budget" in msg and "400" in msg and "max_tokens=350" in msg
    assert events.named("budget_exceeded") == [{"what": "tokens", "used": 400, "limit": 350}]


@pytest.mark.anyio
async def test_the_cost_limit_stops_too() -> None:
    budget = Budget(max_cost_usd=0.025)
    rm = ResilientModel(ScriptedModel("m", ["a"], tokens=1, cost=0.01), budget=budget)
    done = 0
    with pytest.raises(BudgetExceeded, match=r"cost budget exceeded: used \$0\.0300 of max_cost_usd=\$0\.0250"):
        while True:
            await rm.complete(MSGS)
            done += 1
    assert done == 3 and budget.used_cost_usd == pytest.approx(0.03)


def test_check_charge_and_exceeded() -> None:
    budget = Budget(max_tokens=30)
    budget.check()
    budget.charge(completion(tokens=29))
    assert not budget.exceeded and budget.used_tokens == 29
    budget.check()
    budget.charge(completion(tokens=1))
    assert budget.exceeded and budget.calls == 2
    with pytest.raises(BudgetExceeded):
        budget.check()
    assert budget.refusals == 1


def test_no_limits_never_refuse() -> None:
    budget = Budget()
    for _ in range(10):
        budget.charge(completion(tokens=10**6, cost=100.0))
    budget.check()
    assert not budget.exceeded


def test_limits_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        Budget(max_tokens=-1)
    with pytest.raises(ValueError, match="max_cost_usd"):
        Budget(max_cost_usd=-0.1)


@pytest.mark.anyio
async def test_budget_exceeded_is_not_retried() -> None:
    clock = FakeClock()
    budget = Budget(max_tokens=10)
    budget.charge(completion(tokens=10))
    model = ScriptedModel("m", ["a"])
    rm = ResilientModel(model, budget=budget, retry=Retry(sleep=clock.sleep, clock=clock))
    with pytest.raises(BudgetExceeded):
        await rm.complete(MSGS)
    assert model.calls == 0 and clock.sleeps == []


@pytest.mark.anyio
async def test_the_budget_is_checked_before_each_retry_attempt() -> None:
    clock = FakeClock()
    budget = Budget(max_tokens=10)
    model = ScriptedModel("m", [ServerError("500"), "a"])

    async def spend_meanwhile(seconds: float) -> None:
        budget.charge(completion(tokens=10))  # another agent spends the rest while we back off
        await clock.sleep(seconds)

    rm = ResilientModel(model, budget=budget, retry=Retry(sleep=spend_meanwhile, clock=clock))
    with pytest.raises(BudgetExceeded):
        await rm.complete(MSGS)
    assert model.calls == 1


@pytest.mark.anyio
async def test_concurrent_agents_share_one_budget() -> None:
    budget = Budget(max_tokens=1000)
    agents, per_call = 5, 30
    model = ScriptedModel("m", ["a"], tokens=per_call)
    rm = ResilientModel(model, budget=budget)
    stopped: list[int] = []

    async def agent(i: int) -> None:
        try:
            while True:
                await rm.complete(MSGS)
                await anyio.sleep(0)
        except BudgetExceeded:
            stopped.append(i)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for i in range(agents):
                tg.start_soon(agent, i)
    assert sorted(stopped) == list(range(agents))
    assert 1000 <= budget.used_tokens <= 1000 + agents * per_call
    assert model.calls * per_call == budget.used_tokens
