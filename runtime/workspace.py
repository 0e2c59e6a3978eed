"""The team's workspace: a directory whose writes are guarded by fencing tokens.

An agent writes a file only with the token its committed lock gave it. The
workspace remembers the highest token it has seen for each file and refuses
a lower one (``StaleToken``): an agent that stalled while a backup took its
lock over cannot overwrite the newer work (Kleppmann's fencing). The check
is made again under a lock just before the atomic rename, so a write that
was overtaken while it was being written is dropped, not published.

It also measures what the consensus gate should prevent: two agents writing
one file at the same time (``concurrent_writes``). An agent's write session
on a file lasts from its first accepted write until its attempt ends
(``end_session``) or a write with a higher token supersedes it; a write
while another agent's session on the file is still open counts.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path

import anyio

from lmteams.runtime.graph import check_relative_path
from lmteams.runtime.work.fence import Fence, StaleToken

__all__ = ["StaleToken", "Workspace"]


class Workspace:
    def __init__(self, root: Path | str, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self.concurrent_writes = 0
        self.writes = 0
        self.fence = Fence()
        self._sessions: dict[str, dict[str, int]] = defaultdict(dict)  # path -> agent -> token

    def path(self, relative: str) -> Path:
        return self.root / check_relative_path(relative)

    def read(self, relative: str) -> str | None:
        p = self.path(relative)
        return p.read_text(encoding="utf-8") if p.exists() else None

    @property
    def fenced_writes(self) -> int:
        """Writes refused because their fencing token was stale."""
        return self.fence.refused

    async def write(self, relative: str, content: str, *, token: int, agent: str) -> bool:
        """Write ``content`` atomically if ``token`` is not older than any seen for this file.

        Returns whether another agent's write session on the file was still open (a concurrent write).
        """
        target = self.path(relative)
        self.fence.admit(relative, token)
        sessions = self._sessions[relative]
        for other, their_token in list(sessions.items()):
            if their_token < token:
                del sessions[other]  # superseded: the fence now refuses that agent's writes
        concurrent = bool(set(sessions) - {agent})
        self.concurrent_writes += concurrent
        sessions[agent] = token
        await anyio.to_thread.run_sync(self._write_file, relative, target, content, token)
        self.writes += 1
        return concurrent

    def end_session(self, agent: str, paths: list[str]) -> None:
        """``agent``'s attempt is over: it will not write these files again."""
        for relative in paths:
            self._sessions[relative].pop(agent, None)

    def _write_file(self, relative: str, target: Path, content: str, token: int) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(content)
                f.flush()
                if self.fsync:
                    os.fsync(f.fileno())
            # Again, atomically with the rename: a newer token may have arrived meanwhile.
            self.fence.admit(relative, token, then=lambda: os.replace(tmp, target))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
