"""Tools: plain typed Python functions that a model can call.

::

    @function_tool
    def sql_query(query: str, limit: int = 20) -> list[dict]:
        \"\"\"Run a read-only SQL query.

        Args:
            query: one SELECT statement.
            limit: at most this many rows.
        \"\"\"

``sql_query.spec`` is the ``ToolSpec`` a model sees; ``await
sql_query.invoke('{"query": "..."}')`` validates and calls, and feeds any
error back as text instead of raising.
"""

from lmteams.runtime.tools.schema import ToolDefinitionError, parse_docstring
from lmteams.runtime.tools.tool import Tool, ToolResult, function_tool, tool

__all__ = ["Tool", "ToolDefinitionError", "ToolResult", "function_tool", "parse_docstring", "tool"]
