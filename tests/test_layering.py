"""The layering rule, read from the source: ``runtime -> consensus -> transports``, never back,
and inside consensus the pure core imports nothing of the node, clients, cluster, world or testing kit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FOLDERS = {"runtime": "lmteams.runtime", "consensus": "lmteams.consensus", "transports": "lmteams.transports"}


def module_name(path: Path) -> str:
    """The installed name of a repository file, e.g. consensus/core/raft.py -> lmteams.consensus.core.raft."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    parts[0] = FOLDERS[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, text: str | None = None) -> set[str]:
    """Every module ``path`` (or ``text`` read as that file) imports, type-checking-only imports
    included, relative ones resolved."""
    source = text if text is not None else path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources(folder: str) -> list[Path]:
    return sorted(p for p in (REPO / folder).rglob("*.py") if "suites" not in p.relative_to(REPO).parts)


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


RULES = [
    ("transports", ["lmteams.consensus", "lmteams.runtime", "consensus", "runtime"]),
    ("consensus", ["lmteams.runtime", "runtime"]),
    (
        "consensus/core",
        [f"lmteams.consensus.{layer}" for layer in ("node", "client", "cluster", "world", "testing")],
    ),
]


def violations(folder: str, forbidden: list[str]) -> list[str]:
    found = []
    for path in sources(folder):
        for name in sorted(imports(path)):
            # ``lmteams`` itself is the public face: it imports every layer.
            if name == "lmteams" or any(within(name, prefix) for prefix in forbidden):
                found.append(f"{path.relative_to(REPO)} imports {name}")
    return found


@pytest.mark.parametrize(("folder", "forbidden"), RULES, ids=[folder for folder, _ in RULES])
def test_no_layer_imports_one_above_it(folder: str, forbidden: list[str]) -> None:
    assert sources(folder), f"no sources under {folder}/"
    assert violations(folder, forbidden) == []


def test_the_checker_sees_absolute_relative_and_type_checking_imports() -> None:
    # The rule above is only as good as the import reader: feed it each spelling of a forbidden import.
    probe = REPO / "consensus" / "core" / "raft.py"
    text = (
        "from typing import TYPE_CHECKING\n"
        "import lmteams.consensus.node.raft_node\n"
        "from ..world import WorldState\n"
        "from .. import client\n"
        "if TYPE_CHECKING:\n"
        "    from lmteams.consensus.testing import Simulation\n"
    )
    found = imports(probe, text)
    assert "lmteams.consensus.node.raft_node" in found
    assert "lmteams.consensus.world.WorldState" in found
    assert "lmteams.consensus.client" in found
    assert "lmteams.consensus.testing.Simulation" in found
