"""The ``lmteams`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from lmteams.runtime.cli import demo, kv, node, plan, plot, simulate, sweep
from lmteams.runtime.logging import configure


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lmteams",
        description="Run teams of language-model agents as a distributed system.",
    )
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", required=True)
    demo.add_parser(sub)
    kv.add_parser(sub)
    node.add_parser(sub)
    plan.add_parser(sub)
    plot.add_parser(sub)
    simulate.add_parser(sub)
    sweep.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure(args.log_level)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last net: a one-line message, never a traceback (unless asked for)
        if os.environ.get("LMTEAMS_TRACEBACK"):
            raise
        error = _sole(exc)
        first = (str(error).strip().splitlines() or [""])[0][:300]
        print(
            f"lmteams {args.command}: error: {type(error).__name__}: {first} (set LMTEAMS_TRACEBACK=1 to see where)",
            file=sys.stderr,
        )
        return 1


def _sole(exc: BaseException) -> BaseException:
    """The one exception inside (nested) single-member exception groups, else ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
