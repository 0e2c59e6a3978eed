"""``LiteLLMModel``: any provider litellm supports, or a local OpenAI-compatible server.

litellm is imported lazily, on the first call, and never when this module is
imported: it is an optional dependency (``pip install 'lmteams[llm]'``, or
``'lmteams[local]'`` with a local model server) and a heavy import. Before importing it we set ``LITELLM_LOCAL_MODEL_COST_MAP=True``
(unless you set it yourself), because litellm otherwise fetches its model
cost map from the internet at import time and stalls for seconds offline.

Every failure comes out as a ``runtime.errors.ModelError`` subclass with the
original litellm exception as ``__cause__``:

- ``Timeout`` -> ``ModelTimeout``;
- ``RateLimitError`` -> ``RateLimited``, with ``retry_after`` from the
  ``retry-after-ms`` / ``retry-after`` response headers when present;
- ``BadRequestError`` (incl. ``ContextWindowExceededError``),
  ``AuthenticationError``, ``PermissionDeniedError``, ``NotFoundError``,
  ``UnprocessableEntityError`` -> ``BadRequest`` (not retryable);
- ``APIConnectionError`` -> ``ModelConnectionError``; so is any other error
  caused by a refused or broken connection (litellm reports a refused
  connection to an OpenAI-compatible server as ``InternalServerError``), and
  one caused by a transport timeout is a ``ModelTimeout``;
- ``InternalServerError``, ``ServiceUnavailableError``, ``BadGatewayError``
  and any other ``APIError`` with status >= 500 -> ``ServerError``;
- anything else -> ``ModelError``.

A reply without choices, or with neither text nor tool calls, is a ``ModelError`` too.

Tools go out in OpenAI's form (``{"type": "function", "function": {...}}``)
and tool calls come back as ``ToolCall``. ``response_format`` is the plain
JSON schema of the answer; it goes out as OpenAI's ``{"type": "json_schema",
"json_schema": {...}}``, or as ``{"type": "json_object", "schema": {...}}``
for the llama-cpp server (which answers ``json_schema`` with HTTP 500):
``schema_format="auto"`` picks the second for a server on a loopback
address. ``max_tokens`` has a default, so an abandoned call cannot keep a
server generating forever. A missing API key is ``MissingCredentials``
(not retryable), naming the variable to set, before anything is sent; a
server on a loopback address gets a placeholder key (they check none unless
started with one).
"""

from __future__ import annotations

import email.utils
import importlib
import os
import sys
import time
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Literal

import anyio.to_thread
import structlog

from lmteams.runtime.errors import (
    BadRequest,
    MissingCredentials,
    ModelConnectionError,
    ModelError,
    ModelTimeout,
    RateLimited,
    ServerError,
)
from lmteams.runtime.models.base import Completion, Message, MessagesLike, ToolCall, ToolSpec, Usage, as_messages
from lmteams.runtime.models.tokens import count_message_tokens, count_tokens

log = structlog.get_logger(__name__)

SchemaFormat = Literal["auto", "json_schema", "json_object"]
DEFAULT_MAX_TOKENS = 1024
LOCAL_PLACEHOLDER_KEY = "sk-local"
_KEY_HINT = (
    "or pass api_key=... (lmteams demo --api-key KEY); a local OpenAI-compatible server accepts any key, "
    "e.g. --api-key sk-local"
)

_BAD_REQUEST = (
    "ContextWindowExceededError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "UnprocessableEntityError",
)
_SERVER = ("InternalServerError", "ServiceUnavailableError", "BadGatewayError")


def _import_litellm() -> ModuleType:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    first = "litellm" not in sys.modules
    try:
        litellm = importlib.import_module("litellm")
    except ImportError as e:
        raise ImportError(
            "LiteLLMModel needs litellm, which is not installed: pip install 'lmteams[llm]' "
            "(with a local model server: pip install 'lmteams[local]')"
        ) from e
    if first:
        # litellm print()s "Give Feedback / Get Help" banners to stdout on every
        # error, which corrupts an application's (or the CLI's --json) output.
        # If you imported litellm yourself, your settings are left alone.
        setattr(litellm, "suppress_debug_info", True)  # noqa: B010 (a module typed as ModuleType)
    return litellm


def _classes(litellm: ModuleType, names: tuple[str, ...]) -> tuple[type[BaseException], ...]:
    """The litellm exception classes of these names that this litellm version has."""
    found = (getattr(litellm, n, None) for n in names)
    return tuple(c for c in found if isinstance(c, type) and issubclass(c, BaseException))


def _retry_after(exc: BaseException) -> float | None:
    """Seconds from the ``retry-after-ms`` / ``retry-after`` response headers, if present."""
    headers: Any = None
    response = getattr(exc, "response", None)
    if response is not None:
        headers = getattr(response, "headers", None)
    if not headers:
        headers = getattr(exc, "litellm_response_headers", None)
    if not headers:
        return None
    try:
        lowered = {str(k).lower(): str(v) for k, v in dict(headers).items()}
    except (TypeError, ValueError):
        return None
    if "retry-after-ms" in lowered:
        try:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _transport_failure(exc: BaseException) -> str | None:
    """ "timeout" or "connection" when the cause chain holds a transport failure.

    litellm reports some of these as ``InternalServerError`` (status 500): a
    refused connection to an OpenAI-compatible server comes out as
    ``InternalServerError("... Connection error.")`` caused by openai's
    ``APIConnectionError``.
    """
    openai = sys.modules.get("openai")
    httpx = sys.modules.get("httpx")
    timeouts: list[type[BaseException]] = [TimeoutError]
    connections: list[type[BaseException]] = [ConnectionError]
    if openai is not None:
        timeouts.append(openai.APITimeoutError)
        connections.append(openai.APIConnectionError)
    if httpx is not None:
        timeouts.append(httpx.TimeoutException)
        connections.append(httpx.TransportError)
    seen: set[int] = set()
    link: BaseException | None = exc.__cause__ or exc.__context__
    while link is not None and id(link) not in seen and len(seen) < 20:
        seen.add(id(link))
        if isinstance(link, tuple(timeouts)):
            return "timeout"
        if isinstance(link, tuple(connections)):
            return "connection"
        link = link.__cause__ or link.__context__
    return None


def map_litellm_error(litellm: ModuleType, exc: BaseException, model: str) -> ModelError:
    """Translate an exception raised by litellm into the runtime's ``ModelError`` family.

    The caller raises the result ``from exc``. The order of the checks
    matters: litellm's ``Timeout`` is a subclass of openai's
    ``APIConnectionError``, and ``ContextWindowExceededError`` of
    ``BadRequestError``.
    """
    detail = f"{type(exc).__name__}: {exc}"
    status = getattr(exc, "status_code", None)
    if isinstance(exc, _classes(litellm, ("Timeout",))):
        return ModelTimeout(
            f"model {model!r} timed out ({detail}); retry, raise the timeout, or ask for fewer max_tokens",
            model=model,
        )
    if isinstance(exc, _classes(litellm, ("RateLimitError",))):
        retry_after = _retry_after(exc)
        wait = f"after {retry_after:g}s" if retry_after is not None else "after a pause"
        return RateLimited(
            f"model {model!r} is rate limited ({detail}); retry {wait} or lower the team's concurrency",
            model=model,
            retry_after=retry_after,
        )
    if isinstance(exc, _classes(litellm, ("AuthenticationError",))):
        return MissingCredentials(
            f"model {model!r} refused the credentials or got none ({detail}); set the provider's API key "
            f"variable (e.g. OPENAI_API_KEY) {_KEY_HINT}",
            model=model,
        )
    if isinstance(exc, _classes(litellm, _BAD_REQUEST)):
        return BadRequest(
            f"model {model!r} rejected the request ({detail}); fix the model name, API key, parameters or "
            "prompt length: retrying the same request cannot help",
            model=model,
        )
    underlying = _transport_failure(exc)
    if underlying == "timeout":
        return ModelTimeout(
            f"model {model!r} timed out ({detail}); retry, raise the timeout, or ask for fewer max_tokens",
            model=model,
        )
    if isinstance(exc, _classes(litellm, ("APIConnectionError",))) or underlying == "connection":
        return ModelConnectionError(
            f"could not reach model {model!r} ({detail}); check api_base and that the server is running, then retry",
            model=model,
        )
    if isinstance(exc, _classes(litellm, _SERVER)) or (
        isinstance(exc, _classes(litellm, ("APIError",))) and isinstance(status, int) and status >= 500
    ):
        return ServerError(f"model {model!r} had a server error ({detail}); retry after a pause", model=model)
    return ModelError(f"model {model!r} call failed ({detail})", model=model)


def is_loopback(api_base: str | None) -> bool:
    """Whether ``api_base`` points at this machine (a local server)."""
    if not api_base:
        return False
    host = urllib.parse.urlsplit(api_base).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def provider_response_format(schema: dict[str, Any], form: Literal["json_schema", "json_object"]) -> dict[str, Any]:
    """The plain JSON schema ``schema`` in a provider's ``response_format`` form (a provider form passes as is)."""
    if schema.get("type") in ("json_schema", "json_object", "text"):
        return schema
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}


def wire_message(m: Message) -> dict[str, Any]:
    """A message in OpenAI's chat form, which litellm takes for every provider."""
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    return out


def wire_tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": spec.name, "description": spec.description, "parameters": spec.parameters},
    }


def _tool_calls(message: Any) -> tuple[ToolCall, ...]:
    calls = []
    for i, call in enumerate(getattr(message, "tool_calls", None) or ()):
        function = getattr(call, "function", None)
        name = getattr(function, "name", None)
        if not name:
            continue
        arguments = getattr(function, "arguments", None)
        calls.append(ToolCall(id=str(getattr(call, "id", None) or f"call-{i}"), name=name, arguments=arguments or "{}"))
    return tuple(calls)


class LiteLLMModel:
    """A model reached through litellm: a hosted provider or a local OpenAI-compatible server.

    ``LiteLLMModel("openai/smollm2", api_base="http://127.0.0.1:8000/v1")``
    talks to a local llama-cpp (or vLLM, Ollama, ...) server;
    ``LiteLLMModel("anthropic/claude-...")`` to a provider, with its key from
    the usual environment variable or ``api_key=``.

    ``params`` (``temperature``, ``seed``, ``tool_choice``, ...) go to every
    ``litellm.acompletion`` call; the ``params`` of one ``complete`` call
    override them. ``max_tokens`` (default 1024) caps every reply unless a
    call asks otherwise. ``schema_format`` says how a ``response_format``
    schema goes out (see the module docstring). ``max_retries`` defaults to
    0: retrying is the job of the runtime's resilience middleware, and
    retries hidden inside the provider SDK would multiply with it.
    """

    def __init__(
        self,
        model: str,
        api_base: str | None = None,
        timeout: float = 60.0,
        *,
        api_key: str | None = None,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
        schema_format: SchemaFormat = "auto",
        **params: Any,
    ) -> None:
        if not model:
            raise ValueError("LiteLLMModel: model must name a litellm model, e.g. 'openai/gpt-4o-mini'")
        if timeout <= 0:
            raise ValueError(f"LiteLLMModel: timeout={timeout} must be > 0 seconds")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"LiteLLMModel: max_tokens={max_tokens} must be >= 1 (or None for the provider's own)")
        if schema_format not in ("auto", "json_schema", "json_object"):
            raise ValueError(
                f"LiteLLMModel: schema_format={schema_format!r}; choose 'auto', 'json_schema' (OpenAI and most "
                "providers) or 'json_object' (the llama-cpp server)"
            )
        self.model = model
        self.name = model
        self.api_base = api_base
        self.timeout = timeout
        self.api_key = api_key
        self.max_tokens = max_tokens
        self.schema_format: Literal["json_schema", "json_object"] = (
            ("json_object" if is_loopback(api_base) else "json_schema") if schema_format == "auto" else schema_format
        )
        self.params: dict[str, Any] = {"max_retries": 0, **params}
        self._litellm: ModuleType | None = None

    def __repr__(self) -> str:
        return (
            f"LiteLLMModel({self.model!r}, api_base={self.api_base!r}, timeout={self.timeout}, "
            f"schema_format={self.schema_format!r})"
        )

    async def _load(self) -> ModuleType:
        if self._litellm is None:
            # The import takes a second or two: do it off the event loop.
            self._litellm = await anyio.to_thread.run_sync(_import_litellm)
        return self._litellm

    def _credentials(self, litellm: ModuleType, kwargs: dict[str, Any]) -> None:
        """Fill in the key for a local server, or refuse before sending when the provider's key is missing."""
        if kwargs.get("api_key"):
            return
        if is_loopback(self.api_base):
            kwargs["api_key"] = LOCAL_PLACEHOLDER_KEY
            return
        try:
            missing = list(litellm.validate_environment(self.model).get("missing_keys") or [])
        except Exception:  # a provider litellm cannot check: let the call say
            return
        if missing:
            raise MissingCredentials(
                f"model {self.model!r} needs an API key and none is set: set {' or '.join(missing)} {_KEY_HINT}",
                model=self.model,
            )

    async def complete(
        self,
        messages: MessagesLike,
        *,
        tools: Sequence[ToolSpec] | None = None,
        response_format: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        **params: Any,
    ) -> Completion:
        litellm = await self._load()
        msgs = as_messages(messages)
        kwargs: dict[str, Any] = {"api_base": self.api_base, "timeout": self.timeout, **self.params, **params}
        if self.api_key:
            kwargs.setdefault("api_key", self.api_key)
        cap = max_tokens if max_tokens is not None else kwargs.get("max_tokens", self.max_tokens)
        if cap is not None:
            kwargs["max_tokens"] = cap
        if tools:
            kwargs["tools"] = [wire_tool(t) for t in tools]
        if response_format is not None:
            kwargs["response_format"] = provider_response_format(response_format, self.schema_format)
        self._credentials(litellm, kwargs)
        start = time.perf_counter()
        try:
            response = await litellm.acompletion(model=self.model, messages=[wire_message(m) for m in msgs], **kwargs)
        except Exception as exc:
            error = map_litellm_error(litellm, exc, self.model)
            log.debug("model.error", model=self.model, error=type(error).__name__, cause=type(exc).__name__)
            raise error from exc
        latency = time.perf_counter() - start

        choices = getattr(response, "choices", None)
        if not choices:
            raise ModelError(
                f"model {self.model!r} returned no choices; the provider answered but generated nothing, retry",
                model=self.model,
            )
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        calls = _tool_calls(message)
        if text is None and not calls:
            finish = getattr(choices[0], "finish_reason", None)
            raise ModelError(
                f"model {self.model!r} returned no text content and no tool calls (finish_reason={finish!r}); "
                "retry, raise max_tokens or change the prompt",
                model=self.model,
            )
        text = text or ""

        usage = getattr(response, "usage", None)
        prompt_tokens = getattr(usage, "prompt_tokens", None)
        completion_tokens = getattr(usage, "completion_tokens", None)
        if prompt_tokens is None:  # the provider did not say: estimate
            prompt_tokens = count_message_tokens(msgs)
        if completion_tokens is None:
            completion_tokens = count_tokens(text + "".join(c.name + c.arguments for c in calls))

        try:
            cost = float(litellm.completion_cost(completion_response=response) or 0.0)
        except Exception:  # no price for this model (e.g. a local one)
            cost = 0.0
        return Completion(
            text=text,
            tool_calls=calls,
            usage=Usage(prompt_tokens=int(prompt_tokens), completion_tokens=int(completion_tokens)),
            cost_usd=max(0.0, cost),
            latency_s=latency,
            model=self.model,
        )
