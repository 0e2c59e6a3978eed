"""A file-system shim that simulates power loss under FileStorage (in the spirit of ALICE and CrashMonkey).

`PowerLossDisk` replaces the ``os`` module that ``file_storage`` uses. Every call goes to the real
file system (so FileStorage runs unchanged), and the shim keeps a model of what a power loss would
leave behind:

- a file's *content* is durable only as of its last completed ``fsync`` (a file never fsynced is empty);
- the directory's *names* (creations, renames, unlinks) are durable only as of its last completed
  ``fsync`` of the directory.

Every ``write``, ``pwrite``, ``ftruncate``, ``fsync``, ``replace`` and ``unlink`` is a crash point:
with ``crash_at=k`` the k-th such call raises `PowerLoss` instead of running, and `image` writes the
durable state, nothing else, into a fresh directory. A misplaced or missing fsync then shows up as
an acknowledged entry or vote that is missing from the image.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

_CRASH_POINTS = ("write", "pwrite", "ftruncate", "fsync", "replace", "unlink")


class PowerLoss(BaseException):
    """The simulated power loss (a BaseException, so no ``except Exception`` in the code under test eats it)."""


class PowerLossDisk:
    """Stands in for the ``os`` module (see the module docstring)."""

    def __init__(self, directory: Path, crash_at: int | None = None) -> None:
        self._dir = Path(directory)
        self._crash_at = crash_at
        self.points = 0
        self._keep: list[int] = []  # a dup of every opened fd: inodes stay alive, so inode numbers stay unique
        self._opened: list[int] = []
        self._durable_files: dict[int, bytes] = {}
        self._durable_names: dict[str, int] = {}
        if self._dir.exists():  # what is there before the run counts as durable
            for name in os.listdir(self._dir):
                path = self._dir / name
                self._durable_names[name] = os.stat(path).st_ino
                self._durable_files[os.stat(path).st_ino] = path.read_bytes()

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def _point(self) -> None:
        if self._crash_at is not None and self.points == self._crash_at:
            raise PowerLoss(f"power lost at crash point {self.points}")
        self.points += 1

    # -- the calls FileStorage makes ----------------------------------------------

    def open(self, path: Any, flags: int, mode: int = 0o777) -> int:
        fd = os.open(path, flags, mode)
        self._opened.append(fd)
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            self._keep.append(os.dup(fd))
        return fd

    def close(self, fd: int) -> None:
        os.close(fd)
        if fd in self._opened:
            self._opened.remove(fd)

    def write(self, fd: int, data: Any) -> int:
        self._point()
        return os.write(fd, data)

    def pwrite(self, fd: int, data: Any, offset: int) -> int:
        self._point()
        return os.pwrite(fd, data, offset)

    def ftruncate(self, fd: int, length: int) -> None:
        self._point()
        os.ftruncate(fd, length)

    def replace(self, src: Any, dst: Any) -> None:
        self._point()
        os.replace(src, dst)

    def unlink(self, path: Any) -> None:
        self._point()
        os.unlink(path)

    def fsync(self, fd: int) -> None:
        self._point()
        os.fsync(fd)
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            self._durable_names = {name: os.stat(self._dir / name).st_ino for name in os.listdir(self._dir)}
        else:
            with open(f"/proc/self/fd/{fd}", "rb") as f:  # the same inode, readable even if fd is write-only
                self._durable_files[st.st_ino] = f.read()

    # -- after the crash ------------------------------------------------------------

    def image(self, target: Path) -> Path:
        """Write what survives the power loss into ``target`` (a new directory) and return it."""
        target.mkdir(parents=True)
        for name, ino in self._durable_names.items():
            (target / name).write_bytes(self._durable_files.get(ino, b""))
        return target

    def release(self) -> None:
        """Close every descriptor the run left open (a crash leaves FileStorage's open)."""
        for fd in [*self._opened, *self._keep]:
            try:
                os.close(fd)
            except OSError:
                pass
        self._opened.clear()
        self._keep.clear()
