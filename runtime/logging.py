"""structlog set-up for the command line. Library code only calls
``structlog.get_logger``; configuring output is the application's job."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: str = "warning", json: bool = False) -> None:
    """Send structlog events to stderr at ``level`` and above."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
