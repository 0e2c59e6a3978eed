"""``SimulatedModel``: the offline default model.

It simulates latency, token counts, cost and faults, not intelligence. Its
replies come from a ``responder`` you script (or a short acknowledgement);
what it models faithfully is how a remote language model *behaves* as a part
of a distributed system: it takes a while (lognormal latency, plus time per
output token), it costs tokens and money, and it sometimes fails (retryable
errors, hangs until timeout, unparseable output).

Everything is seeded and independent of how calls interleave: the
randomness of a call is ``random.Random(f"{seed}:{digest}:{k}")``, where
``digest`` is the SHA-256 of the messages' JSON and ``k`` counts the earlier
calls with the same messages on this instance. A 1-agent and a 5-agent run
with the same seed therefore see the same latency and the same fault for
each prompt, whatever the order of the calls.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import anyio
import structlog
from pydantic import BaseModel, ConfigDict, Field

from lmteams.runtime.errors import ModelTimeout, RateLimited, ServerError
from lmteams.runtime.models.base import Completion, Message, MessagesLike, ToolCall, ToolSpec, Usage, as_messages
from lmteams.runtime.models.tokens import count_message_tokens, count_tokens

log = structlog.get_logger(__name__)

Reply: TypeAlias = str | Completion | Sequence[ToolCall]
"""A responder's answer: the text, or tool calls (a ``Completion`` with ``tool_calls``, or just the calls)."""

Responder = Callable[..., Reply | Awaitable[Reply]]
"""Gives the reply for the messages; a plain or an async callable. It is called as ``responder(messages)``,
and also given ``tools=`` (the ``ToolSpec`` list) and ``response_format=`` when it accepts those keywords."""

Fault = Literal["none", "server_error", "rate_limited", "timeout", "garbage"]

HISTORY_LIMIT = 10_000


class Latency(BaseModel):
    """The latency distribution of a simulated call.

    latency = time_scale * (median_s * exp(sigma * N(0, 1)) + per_output_token_s * completion_tokens)

    ``time_scale`` shrinks (or stretches) every wait of the model, including
    fault waits and hangs; tests use e.g. ``1e-4`` to run thousands of calls
    in well under a second with the same relative timings.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    median_s: float = Field(default=0.2, ge=0)
    sigma: float = Field(default=0.25, ge=0)
    per_output_token_s: float = Field(default=0.0, ge=0)
    time_scale: float = Field(default=1.0, ge=0)

    @classmethod
    def profile(cls, model: str = "all", mode: str | None = None, *, time_scale: float = 1.0) -> Latency:
        """The latency the paper measured for ``model`` in ``mode``, as a lognormal, scaled by ``time_scale``.

        ``model`` is one of ``claude``, ``gemini``, ``gpt-5.2`` or ``all`` (every
        reply pooled, the default); ``mode`` is ``decentralized`` or
        ``pre-assigned`` (``preassigned`` also works), and is omitted for
        ``all``. The paper gives the mean ``mu`` and standard deviation
        ``sigma`` of ln(seconds), so ``median_s = exp(mu)``: the median of the
        fitted lognormal, a little above the sample median it also reports
        (``profiles.PAPER_LATENCY``). ``time_scale=0.02`` replays the distribution 50
        times faster with the same shape.
        """
        from lmteams.runtime.models.profiles import paper_latency

        row = paper_latency(model, mode)
        return cls(median_s=math.exp(row.mu), sigma=row.sigma, time_scale=time_scale)

    def base_s(self, z: float) -> float:
        """The token-independent part for a standard normal draw ``z``, scaled."""
        return self.time_scale * self.median_s * math.exp(self.sigma * z)

    def total_s(self, z: float, completion_tokens: int) -> float:
        return self.base_s(z) + self.time_scale * self.per_output_token_s * completion_tokens


@dataclass(slots=True)
class SimulatedCall:
    """What the simulator decided for one call (see ``SimulatedModel.history``).

    ``latency_s`` is the planned wait: the drawn latency for a normal or
    garbage reply, the short pre-error wait for an error, ``hang_s`` for a
    timeout. It is ``None`` while the reply is still being produced.
    """

    digest: str
    k: int
    fault: Fault
    latency_s: float | None


def _digest(messages: list[Message]) -> str:
    payload = json.dumps(
        [m.model_dump(mode="json") for m in messages], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def acknowledge(messages: list[Message]) -> str:
    """The default responder: a short deterministic acknowledgement of the last message."""
    if not messages:
        return "ack: no messages."
    last = messages[-1]
    return f"ack: {len(messages)} message(s) received; the last, from {last.role}, has {count_tokens(last.content)} tokens."


_SYLLABLES = ("zq", "blo", "rp", "vex", "ugh", "kra", "ll", "nib", "tsk", "wof", "qua", "ptr", "oo", "xi", "mm")


def _garbage(rng: random.Random) -> str:
    """Seeded nonsense that is never valid JSON."""
    words = ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(4, 12))]
    style = rng.randrange(3)
    if style == 0:  # truncated JSON object: an unterminated string
        return '{"' + words[0] + '": "' + " ".join(words[1:])
    if style == 1:  # word salad with stray brackets
        return " ".join(words[:2]) + " ]} " + " ".join(words[2:]) + " {{"
    return "```json\n" + ", ".join(words) + "\n```"  # fenced, but not JSON inside


class SimulatedModel:
    """A seeded stand-in for a language model: it simulates latency, token counts,
    cost and faults, not intelligence.

    Each call draws, from its own seeded RNG (see the module docstring), a
    latency and one fault, checked in this order against a single uniform
    draw, so each rate is the marginal probability of that fault:

    - ``fail_rate``: after 10% of the drawn latency, raise a retryable error,
      alternating per prompt between ``ServerError`` ("simulated 503") and
      ``RateLimited`` (``retry_after = 0.05 * time_scale``);
    - ``timeout_rate``: hang for ``hang_s`` (default ``50 * median_s *
      time_scale``; an explicit value is used as is), then raise
      ``ModelTimeout``. A caller's own timeout normally cancels the call
      first, which is clean: nothing is left running;
    - ``garbage_rate``: return a ``Completion`` whose text is seeded
      nonsense that does not parse as JSON.

    Otherwise the reply is ``responder(messages)`` (sync or async; default:
    a short acknowledgement): text, or tool calls (a ``Completion`` with
    ``tool_calls``, or a list of ``ToolCall``), so a tool-using team runs
    offline and deterministically. A responder that takes ``tools`` or
    ``response_format`` keywords is given the call's. Usage is counted with
    ``runtime.models.tokens.count_tokens`` (an approximation), ``cost_usd``
    from the per-1k-token prices, and ``latency_s`` is the measured wall
    time. Extra ``**params`` to ``complete`` (temperature, max_tokens, ...)
    are accepted and ignored.

    ``calls`` counts calls started; ``history`` keeps what was decided for
    the last ``HISTORY_LIMIT`` calls. Nothing is shared between instances.
    """

    def __init__(
        self,
        *,
        seed: int | str = 0,
        latency: Latency = Latency(),  # noqa: B008 (Latency is frozen, so one shared default is safe)
        fail_rate: float = 0.0,
        timeout_rate: float = 0.0,
        garbage_rate: float = 0.0,
        responder: Responder | None = None,
        name: str = "simulated",
        price_in_per_1k: float = 0.0,
        price_out_per_1k: float = 0.0,
        hang_s: float | None = None,
    ) -> None:
        rates = {"fail_rate": fail_rate, "timeout_rate": timeout_rate, "garbage_rate": garbage_rate}
        for key, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"SimulatedModel: {key}={rate} must be between 0 and 1")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError(
                f"SimulatedModel: fail_rate + timeout_rate + garbage_rate = {sum(rates.values())} > 1; "
                "they are exclusive per-call probabilities, so lower them"
            )
        if price_in_per_1k < 0 or price_out_per_1k < 0:
            raise ValueError("SimulatedModel: prices must be >= 0")
        if hang_s is not None and hang_s < 0:
            raise ValueError(f"SimulatedModel: hang_s={hang_s} must be >= 0")
        self.name = name
        self.seed = seed
        self.latency = latency
        self.fail_rate = fail_rate
        self.timeout_rate = timeout_rate
        self.garbage_rate = garbage_rate
        self.responder: Responder = responder if responder is not None else acknowledge
        self._responder_takes = _keywords(self.responder, ("tools", "response_format"))
        self.price_in_per_1k = price_in_per_1k
        self.price_out_per_1k = price_out_per_1k
        self.hang_s = hang_s if hang_s is not None else 50.0 * latency.median_s * latency.time_scale
        self.calls = 0
        self.history: deque[SimulatedCall] = deque(maxlen=HISTORY_LIMIT)
        self._seen: dict[str, int] = {}
        self._failures: dict[str, int] = {}

    def __repr__(self) -> str:
        return (
            f"SimulatedModel(name={self.name!r}, seed={self.seed!r}, fail_rate={self.fail_rate}, "
            f"timeout_rate={self.timeout_rate}, garbage_rate={self.garbage_rate})"
        )

    def _decide(self, u: float, digest: str) -> Fault:
        if u < self.fail_rate:
            n = self._failures.get(digest, 0)
            self._failures[digest] = n + 1
            return "server_error" if n % 2 == 0 else "rate_limited"
        if u < self.fail_rate + self.timeout_rate:
            return "timeout"
        if u < self.fail_rate + self.timeout_rate + self.garbage_rate:
            return "garbage"
        return "none"

    async def _reply(
        self, messages: list[Message], tools: Sequence[ToolSpec] | None, response_format: dict[str, Any] | None
    ) -> tuple[str, tuple[ToolCall, ...]]:
        offered = {"tools": list(tools) if tools else None, "response_format": response_format}
        result = self.responder(messages, **{k: v for k, v in offered.items() if k in self._responder_takes})
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, str):
            return result, ()
        if isinstance(result, Completion):
            return result.text, tuple(result.tool_calls)
        if isinstance(result, Sequence) and result and all(isinstance(c, ToolCall) for c in result):
            return "", tuple(c for c in result if isinstance(c, ToolCall))
        raise TypeError(
            f"SimulatedModel {self.name!r}: the responder must return str, a Completion or a list of ToolCall, "
            f"got {type(result).__name__}"
        )

    async def complete(
        self,
        messages: MessagesLike,
        *,
        tools: Sequence[ToolSpec] | None = None,
        response_format: dict[str, Any] | None = None,
        **params: Any,
    ) -> Completion:
        start = time.perf_counter()
        msgs = as_messages(messages)
        # All bookkeeping happens before the first await, so the k of a call
        # depends only on the calls with the same messages started before it.
        digest = _digest(msgs)
        k = self._seen.get(digest, 0)
        self._seen[digest] = k + 1
        self.calls += 1
        rng = random.Random(f"{self.seed}:{digest}:{k}")
        z = rng.gauss(0.0, 1.0)
        fault = self._decide(rng.random(), digest)
        record = SimulatedCall(digest=digest, k=k, fault=fault, latency_s=None)
        self.history.append(record)
        base = self.latency.base_s(z)

        if fault in ("server_error", "rate_limited"):
            record.latency_s = 0.1 * base
            log.debug("model.simulated_fault", model=self.name, fault=fault, k=k, digest=digest[:12])
            await anyio.sleep(record.latency_s)
            hint = f"fault injected by fail_rate={self.fail_rate}; retry after a pause"
            if fault == "server_error":
                raise ServerError(f"simulated 503 from model {self.name!r} ({hint})", model=self.name)
            retry_after = 0.05 * self.latency.time_scale
            raise RateLimited(
                f"simulated 429 from model {self.name!r} ({hint}, retry_after={retry_after:g}s)",
                model=self.name,
                retry_after=retry_after,
            )
        if fault == "timeout":
            record.latency_s = self.hang_s
            log.debug("model.simulated_fault", model=self.name, fault=fault, k=k, digest=digest[:12])
            await anyio.sleep(self.hang_s)
            raise ModelTimeout(
                f"simulated timeout: model {self.name!r} did not answer within {self.hang_s:g}s "
                f"(fault injected by timeout_rate={self.timeout_rate}); put a shorter timeout around the call "
                "and retry",
                model=self.name,
            )

        calls: tuple[ToolCall, ...] = ()
        if fault == "garbage":
            text = _garbage(rng)
            log.debug("model.simulated_fault", model=self.name, fault=fault, k=k, digest=digest[:12])
        else:
            text, calls = await self._reply(msgs, tools, response_format)
        written = text + "".join(c.name + c.arguments for c in calls)
        usage = Usage(prompt_tokens=count_message_tokens(msgs), completion_tokens=count_tokens(written))
        record.latency_s = self.latency.total_s(z, usage.completion_tokens)
        await anyio.sleep(max(0.0, record.latency_s - (time.perf_counter() - start)))
        cost = (usage.prompt_tokens * self.price_in_per_1k + usage.completion_tokens * self.price_out_per_1k) / 1000
        return Completion(
            text=text,
            tool_calls=calls,
            usage=usage,
            cost_usd=cost,
            latency_s=time.perf_counter() - start,
            model=self.name,
        )


def _keywords(fn: Callable[..., Any], names: tuple[str, ...]) -> frozenset[str]:
    """Which of ``names`` ``fn`` accepts as keywords (all of them when it takes ``**kwargs``)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return frozenset()
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return frozenset(names)
    return frozenset(n for n in names if n in params and params[n].kind is not inspect.Parameter.POSITIONAL_ONLY)
