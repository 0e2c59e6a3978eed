"""What a non-editable install leaves behind: one top-level package, lmteams, with its data.

Builds a wheel from a copy of the repository (so no build files land in the
tree) with this interpreter's setuptools and wheel (``--no-build-isolation``,
``--no-deps``: nothing is downloaded; the ``dev`` extra brings ``wheel``), and
installs it into a fresh virtualenv that takes its dependencies from the
system (``--system-site-packages``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PUBLIC = "from lmteams import Team, TaskGraph, SimulatedModel, LocalCluster, RaftNode, WorldState, Simulation, check_linearizable"

pytestmark = pytest.mark.timeout(300)


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the venv's python, its site-packages) after ``pip install <copy of the repo>``."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "src"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "runs", ".venv"
        ),
    )
    dist = root / "dist"
    built = run(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, source, cwd=root
    )
    assert built.returncode == 0, f"building the wheel failed (pip install -e '.[dev]' brings wheel):\n{built.stderr}"
    (wheel,) = dist.glob("lmteams-*.whl")
    venv = root / "venv"
    # No pip of its own: the system's (seen through --system-site-packages) installs into it.
    made = run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv, cwd=root)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    pip = run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=root)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    where = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root)
    return python, Path(where.stdout.strip())


def test_the_install_adds_one_top_level_package_lmteams(installed: tuple[Path, Path]) -> None:
    _, site = installed
    assert (site / "lmteams" / "__init__.py").is_file()
    assert (site / "lmteams" / "py.typed").is_file()
    for layer in ("runtime", "consensus", "transports"):
        assert (site / "lmteams" / layer / "__init__.py").is_file()
        assert not (site / layer).exists(), f"a top-level {layer!r} landed in site-packages"
        assert not (site / f"{layer}.py").exists()


def test_the_bundled_suites_are_in_the_package(installed: tuple[Path, Path]) -> None:
    _, site = installed
    bundled = sorted(
        p.relative_to(REPO / "runtime")
        for p in (REPO / "runtime" / "suites").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert any(p.name == "graph.yaml" for p in bundled)
    missing = [str(p) for p in bundled if not (site / "lmteams" / "runtime" / p).is_file()]
    assert missing == []


def test_the_public_names_import_and_the_folders_do_not(installed: tuple[Path, Path], tmp_path: Path) -> None:
    python, site = installed
    public = run(python, "-c", f"{PUBLIC}; import lmteams; print(lmteams.__file__)", cwd=tmp_path)
    assert public.returncode == 0, public.stderr
    assert Path(public.stdout.strip()).parent == site / "lmteams"
    for layer in ("runtime", "consensus", "transports"):
        bare = run(python, "-c", f"import {layer}", cwd=tmp_path)
        assert bare.returncode != 0 and "ModuleNotFoundError" in bare.stderr, bare.stdout + bare.stderr
