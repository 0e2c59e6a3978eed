"""The real local model server for tests: the library's ``LocalModelServer``, plus a skip rule.

``require_local_stack()`` skips the calling test when the pieces are not
installed (they come with ``bash .ci/run``), or fails it when
``LMTEAMS_REQUIRE_LOCAL_MODEL=1`` says they must be there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from lmteams.runtime.models.local_server import ALIAS, LocalModelServer, find_gguf, free_port, missing_pieces

REQUIRE_ENV = "LMTEAMS_REQUIRE_LOCAL_MODEL"
LocalServer = LocalModelServer

__all__ = ["LocalServer", "find_gguf", "free_port", "local_model_server", "require_local_stack"]


def require_local_stack(*, server: bool = True) -> None:
    """Skip (or, with LMTEAMS_REQUIRE_LOCAL_MODEL=1, fail) when the local stack is missing."""
    missing = missing_pieces(server=server)
    if not missing:
        return
    reason = f"the local model stack is not installed ({', '.join(missing)}); run `bash .ci/run` to install it"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def local_model_server(*, alias: str = ALIAS, n_ctx: int = 2048) -> Iterator[LocalModelServer]:
    """The library's server, started for the block and stopped after it."""
    with LocalModelServer(alias=alias, n_ctx=n_ctx) as server:
        yield server
