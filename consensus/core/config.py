"""Raft timing and flow-control settings, validated at the boundary."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RaftConfig(BaseModel):
    """Timing is in ticks: the core has no clock, the caller decides what a tick is.

    The election timeout is drawn uniformly from
    ``[election_timeout_min, election_timeout_max)`` each time it is reset.

    ``snapshot_threshold`` is read by the driver (``RaftNode``, the
    ``Simulation``), which snapshots the state machine and asks the core to
    compact; ``snapshot_chunk_bytes`` sizes the chunks a leader sends a
    follower that is behind its compacted log.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    election_timeout_min: int = Field(10, ge=2, description="lower bound of the randomized election timeout, in ticks")
    election_timeout_max: int = Field(20, ge=3, description="upper bound (exclusive) of the election timeout, in ticks")
    heartbeat_interval: int = Field(3, ge=1, description="ticks between leader heartbeats")
    pre_vote: bool = Field(True, description="run a pre-vote round before incrementing the term")
    check_quorum: bool = Field(
        True, description="a leader that has not heard from a majority within an election timeout steps down"
    )
    max_entries_per_msg: int = Field(64, ge=1, description="at most this many entries in one AppendEntries")
    max_commands_per_entry: int = Field(
        256,
        ge=1,
        description=(
            "a leader packs up to this many proposals that wait together into one BATCH entry (read by "
            "RaftNode); 1 gives every command its own entry"
        ),
    )
    max_inflight_msgs: int = Field(
        256, ge=1, description="AppendEntries in flight to one follower before the leader pauses"
    )
    snapshot_threshold: int | None = Field(
        10_000,
        ge=0,
        description=(
            "snapshot the state machine and compact the log once this many entries were applied since the "
            "last snapshot; None or 0 never snapshots (the log then grows without bound)"
        ),
    )
    snapshot_chunk_bytes: int = Field(
        64 * 1024,
        ge=1,
        le=1024 * 1024,
        description=(
            "bytes of snapshot per InstallSnapshot message; keep it well under the transport's frame limit "
            "(4 MiB for TcpTransport by default)"
        ),
    )

    @model_validator(mode="after")
    def _check_timing(self) -> RaftConfig:
        if self.election_timeout_max <= self.election_timeout_min:
            raise ValueError(
                f"election_timeout_max ({self.election_timeout_max}) must be greater than "
                f"election_timeout_min ({self.election_timeout_min}): the timeout is drawn from "
                "[min, max) so that candidates do not collide; e.g. min=10, max=20"
            )
        if self.heartbeat_interval >= self.election_timeout_min:
            raise ValueError(
                f"heartbeat_interval ({self.heartbeat_interval}) must be shorter than "
                f"election_timeout_min ({self.election_timeout_min}), or followers time out "
                "between heartbeats; a heartbeat of a tenth of the election timeout is usual"
            )
        return self
