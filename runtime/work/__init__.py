"""Work: what an agent does with a task once the gate has claimed it and locked its resources.

A work function is ``async def work(task, ctx) -> result`` (``WorkFn``);
``Team(work=fn)`` runs it for every task, ``Team(work={"kind": fn, ...})``
picks one by the task's ``kind``. ``coding`` holds the built-in coding kind
(files and tests) and ``llm`` the LLM tool loop (``llm_work``); each is imported only when used.
"""

from lmteams.runtime.work.context import Guard, NotLocked, WorkContext, WorkEvents, WorkFailed, WorkFn, World
from lmteams.runtime.work.fence import Fence, StaleToken

__all__ = ["Fence", "Guard", "NotLocked", "StaleToken", "WorkContext", "WorkEvents", "WorkFailed", "WorkFn", "World"]
