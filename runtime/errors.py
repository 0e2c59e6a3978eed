"""The runtime's exceptions. Each says what went wrong and what to do.

Model errors are split by what a caller should do about them: ``retryable``
ones (rate limits, timeouts, connection failures, 5xx) are worth another
attempt after a pause; ``BadRequest`` and ``OutputParseError`` are not,
because the same request would fail the same way.
"""

from __future__ import annotations


class LmTeamsError(Exception):
    """Base class of every error the runtime raises."""


# -- models ---------------------------------------------------------------------


class ModelError(LmTeamsError):
    """A model call failed. ``retryable`` says whether trying again may help."""

    retryable: bool = True

    def __init__(self, message: str, *, model: str | None = None) -> None:
        super().__init__(message)
        self.model = model


class RateLimited(ModelError):
    """The provider refused for rate; ``retry_after`` (seconds) is its hint, if it gave one."""

    def __init__(self, message: str, *, model: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, model=model)
        self.retry_after = retry_after


class ModelTimeout(ModelError):
    """The call did not answer in time."""


class ModelConnectionError(ModelError):
    """The provider could not be reached (refused, reset, DNS, TLS)."""


class ServerError(ModelError):
    """The provider answered with a 5xx."""


class BadRequest(ModelError):
    """The request itself is wrong (bad parameters, context too long, auth): retrying cannot help."""

    retryable = False


class MissingCredentials(BadRequest):
    """No API key for the provider: the message names the environment variable or flag to set."""


class OutputParseError(ModelError):
    """The model's reply did not parse against the expected schema, even after repair attempts."""

    retryable = False

    def __init__(self, message: str, *, model: str | None = None, reply: str = "") -> None:
        super().__init__(message, model=model)
        self.reply = reply


# -- resilience -----------------------------------------------------------------


class CircuitOpen(ModelError):
    """The circuit breaker is open: calls fail fast until ``reset_timeout`` passes."""

    def __init__(self, message: str, *, model: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, model=model)
        self.retry_after = retry_after


class BudgetExceeded(LmTeamsError):
    """The team's token or cost budget is spent; the run stops with status ``budget_exceeded``."""


class AllFallbacksFailed(ModelError):
    """Every model in a fallback chain failed; ``errors`` holds each one's error, in order."""

    def __init__(self, message: str, errors: list[BaseException]) -> None:
        super().__init__(message)
        self.errors = errors
        self.retryable = any(getattr(e, "retryable", False) for e in errors)


# -- task graphs ----------------------------------------------------------------


class TaskGraphError(LmTeamsError, ValueError):
    """A task graph is invalid (cycle, unknown dependency, duplicate id, write conflict) or unreadable."""
