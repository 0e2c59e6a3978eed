"""``TeamSettings``: the knobs of a team run, validated at the boundary."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TeamSettings(BaseModel):
    """How agents claim, retry, verify and back each other up.

    Times are seconds of wall time; leases are measured in committed time
    (the Raft leader's clock), so every replica agrees when one runs out.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    lease_s: float = Field(default=10.0, gt=0, le=86_400)
    """Claim and lock lease: a crashed agent's task is reassigned after this."""
    poll_s: float = Field(default=0.5, gt=0)
    """Agents are woken by messages; this is how long one waits before re-reading committed state anyway."""
    adopt_after_s: float | None = Field(default=None, gt=0)
    """A ready task nobody has claimed for this long may be taken by any idle agent (default: the lease)."""
    max_task_attempts: int = Field(default=3, ge=1)
    """Failed attempts (model errors, tests still failing) before a task fails for good."""
    test_repairs: int = Field(default=2, ge=0)
    """Times an agent may feed failing tests back to the model within one attempt."""
    parse_repairs: int = Field(default=2, ge=0)
    """Times an unparsable reply is fed back to the model with the parse error."""
    call_timeout_s: float = Field(default=30.0, gt=0)
    """Timeout of one model call."""
    retry_attempts: int = Field(default=6, ge=1)
    retry_base_s: float = Field(default=0.05, ge=0)
    retry_max_s: float = Field(default=2.0, ge=0)
    retry_total_s: float = Field(default=60.0, gt=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=1.0, gt=0)
    backup_after: float | None = Field(default=3.0, gt=1)
    """Start a speculative backup of a task running longer than this multiple of the median task time (None: never)."""
    backup_min_samples: int = Field(default=3, ge=1)
    """Completed tasks needed before the median means anything."""
    test_timeout_s: float = Field(default=30.0, gt=0)
    gate: bool = True
    """Claim and lock through consensus before acting. Only an ablation turns this off, to show what it prevents."""

    @model_validator(mode="after")
    def _retry_delays(self) -> TeamSettings:
        if self.retry_max_s < self.retry_base_s:
            raise ValueError(f"retry_max_s ({self.retry_max_s}) must be >= retry_base_s ({self.retry_base_s})")
        return self

    @property
    def adopt_after(self) -> float:
        return self.adopt_after_s if self.adopt_after_s is not None else self.lease_s
