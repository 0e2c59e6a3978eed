"""A research team: agents answer questions about a SQLite dataset through tools, then one writes a summary.

The example creates a small sales dataset in a local SQLite file. Three
question tasks run in parallel; each agent explores the data with two
tools, ``describe_table`` and ``sql_query`` (read-only), and answers with
an ``Answer``. The summary task depends on all three and writes a
``Summary`` from their committed results (``ctx.inputs``).

    python examples/research_team.py                     # offline: a scripted SimulatedModel
    python examples/research_team.py --model openai/gpt-4o-mini            # OPENAI_API_KEY set
    python examples/research_team.py --model openai/smollm2 --api-base http://127.0.0.1:8080/v1 --tool-mode json

``--tool-mode json`` is for servers without tool calling (llama-cpp): the
calls and the answer are JSON objects whose schema goes out as the
response format.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel, Field

from lmteams.runtime.graph import TaskGraph
from lmteams.runtime.logging import configure
from lmteams.runtime.models import Completion, Latency, LiteLLMModel, Message, Model, SimulatedModel, ToolCall
from lmteams.runtime.team import Team
from lmteams.runtime.tools import function_tool
from lmteams.runtime.work.llm import llm_work

SALES = [  # region, product, units, unit price
    ("north", "kettle", 120, 25.0),
    ("north", "toaster", 80, 40.0),
    ("south", "kettle", 200, 24.0),
    ("south", "blender", 50, 90.0),
    ("east", "toaster", 150, 38.0),
    ("east", "blender", 70, 85.0),
    ("west", "kettle", 90, 26.0),
]

QUESTIONS = {  # task id -> (question, the SQL the scripted model runs)
    "top-region": (
        "Which region sold the most units?",
        "SELECT region, SUM(units) AS units FROM sales GROUP BY region ORDER BY units DESC LIMIT 1",
    ),
    "revenue": ("What is the total revenue (units times price)?", "SELECT SUM(units * price) AS revenue FROM sales"),
    "pricey": (
        "Which product has the highest average unit price?",
        "SELECT product, AVG(price) AS avg_price FROM sales GROUP BY product ORDER BY avg_price DESC LIMIT 1",
    ),
}


class Answer(BaseModel):
    answer: str = Field(description="the answer in a few words")
    sql: str = Field(default="", description="the SQL that gave it")


class Summary(BaseModel):
    summary: str = Field(description="two or three sentences")


def create_dataset(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE sales (region TEXT, product TEXT, units INTEGER, price REAL)")
        db.executemany("INSERT INTO sales VALUES (?, ?, ?, ?)", SALES)
    return path


def make_tools(path: Path) -> list[Any]:
    def connect() -> sqlite3.Connection:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # read-only: a model cannot change the data

    @function_tool
    def describe_table(table: str) -> dict[str, Any]:
        """The columns of a table and how many rows it has.

        Args:
            table: the table's name, e.g. sales.
        """
        with connect() as db:
            columns = [{"name": r[1], "type": r[2]} for r in db.execute("SELECT * FROM pragma_table_info(?)", (table,))]
            if not columns:
                tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
                raise ValueError(f"no table {table!r}; the tables are {tables}")
            rows = db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        return {"table": table, "columns": columns, "rows": rows}

    @function_tool
    def sql_query(query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Run one read-only SQL query (SQLite) and return its rows.

        Args:
            query: a single SELECT statement.
            limit: at most this many rows are returned.
        """
        with connect() as db:
            cursor = db.execute(query)
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row)) for row in cursor.fetchmany(limit)]

    return [describe_table, sql_query]


def graph() -> TaskGraph:
    tasks: list[dict[str, Any]] = [
        {"id": tid, "title": question, "input": {"table": "sales"}, "kind": "question", "estimate": 1.0}
        for tid, (question, _) in QUESTIONS.items()
    ]
    tasks.append(
        {
            "id": "summary",
            "title": "Summarise the findings for a manager, using the answers of the tasks this one depends on.",
            "dependencies": list(QUESTIONS),
            "kind": "summary",
            "estimate": 1.0,
        }
    )
    return TaskGraph.from_dict({"name": "research", "tasks": tasks}, source="research_team")


# -- the offline model: a script that knows which SQL answers which question --------------------


def scripted_analyst(messages: list[Message]) -> Completion | str:
    prompt = messages[1].content
    task_id = prompt.splitlines()[0].removeprefix("TASK-ID: ").strip()
    tool_results = [m.content for m in messages if m.role == "tool"]
    if task_id == "summary":
        answers = dict(_dependency_results(prompt))
        text = (
            f"The {answers['top-region']} region sold the most units. Total revenue was {answers['revenue']}. "
            f"The {answers['pricey']} has the highest average price."
        )
        return json.dumps({"summary": text})
    sql = QUESTIONS[task_id][1]
    if not tool_results:
        return Completion(
            text="", tool_calls=(ToolCall(id="c1", name="describe_table", arguments='{"table": "sales"}'),)
        )
    if len(tool_results) == 1:
        return Completion(
            text="", tool_calls=(ToolCall(id="c2", name="sql_query", arguments=json.dumps({"query": sql})),)
        )
    row = json.loads(tool_results[-1])[0]
    value = next(iter(row.values())) if task_id != "revenue" else f"{row['revenue']:.2f}"
    return json.dumps({"answer": str(value), "sql": sql})


def _dependency_results(prompt: str) -> list[tuple[str, str]]:
    out = []
    for line in prompt.splitlines():
        if line.startswith("- ") and ": " in line:
            tid, value = line[2:].split(": ", 1)
            out.append((tid, json.loads(value)["answer"]))
    return out


def make_model(args: argparse.Namespace) -> Model:
    if args.model:
        return LiteLLMModel(args.model, api_base=args.api_base, api_key=args.api_key, temperature=0.0)
    return SimulatedModel(seed=args.seed, latency=Latency(median_s=0.05, sigma=0.2), responder=scripted_analyst)


async def main(args: argparse.Namespace) -> int:
    configure("warning")
    with tempfile.TemporaryDirectory(prefix="lmteams-research-") as tmp:
        tools = make_tools(create_dataset(Path(tmp) / "sales.db"))
        work = {
            "question": llm_work(tools=tools, output=Answer, tool_mode=args.tool_mode, max_turns=6),
            "summary": llm_work(output=Summary, tool_mode=args.tool_mode),
        }
        async with Team(size=args.agents, model=make_model(args), seed=args.seed, runs_dir=None, work=work) as team:
            report = await team.run(graph(), timeout=args.timeout)
    print(f"{report.status.value}: {report.tasks_done}/{report.tasks_total} tasks")
    for task_id, result in report.results.items():
        print(f"{task_id}: {json.dumps(result)}")
    if report.status.value != "completed":
        print(report.detail)
    return 0 if report.status.value == "completed" else 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="A research team over a SQLite dataset.")
    p.add_argument("--agents", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--model", default=None, help="a litellm model string (default: the scripted simulated model)")
    p.add_argument("--api-base", default=None, help="an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    p.add_argument("--api-key", default=None, help="the provider's key (default: its environment variable)")
    p.add_argument("--tool-mode", default="native", choices=["native", "json"], help="json for servers without tools")
    p.add_argument("--timeout", type=float, default=600.0)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(anyio.run(main, parse_args(sys.argv[1:])))
