"""The leader's view of one follower: probe, replicate or snapshot (etcd's Progress).

- PROBE: the leader does not know where the follower's log matches. It
  sends one AppendEntries and waits for the answer (or a heartbeat
  response) before sending another, backing ``next`` off on each reject.
- REPLICATE: the logs matched at ``match``. The leader streams entries
  optimistically, advancing ``next`` as it sends, with at most
  ``max_inflight`` messages outstanding.

- SNAPSHOT: the follower needs entries the leader has compacted away.
  The leader sends its snapshot ``pending_snapshot`` in chunks, one at a
  time: ``snap_offset`` is how many bytes the follower has acknowledged.
  No AppendEntries go out meanwhile. Once the follower acknowledges an
  index the log can continue from (it installed the snapshot, or caught up
  some other way), the leader probes from there and replicates.

A reject in REPLICATE drops back to PROBE from ``match + 1``.

A lost disk. A follower that answers the probe at ``match`` (an entry it
acknowledged) with a reject whose hint lies below ``match`` says its log
now ends before that entry. One such answer may be stale (reordered behind
a later acknowledgement), so only ``LOST_DISK_REJECTS`` of them in a row,
with no acknowledgement in between, count: the leader then records it in
``lost_disk`` (shown in the node's status and log) and probes from the
hint, so the follower catches up instead of being ignored forever (etcd
would wait silently). Raft assumed that follower's acknowledgements were
durable: the cluster ran with less redundancy than it counted on. The
safe repair is to remove the member and add it back (README, "Operations:
a damaged node").
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field

LOST_DISK_REJECTS = 3
"""Rejects of the probe at ``match`` with a hint below it, in a row, that mean a lost disk."""


class ProgressState(enum.Enum):
    PROBE = "probe"
    REPLICATE = "replicate"
    SNAPSHOT = "snapshot"


@dataclass(slots=True)
class Progress:
    next: int
    max_inflight: int
    match: int = 0
    state: ProgressState = ProgressState.PROBE
    probe_sent: bool = False
    recent_active: bool = False
    inflights: deque[int] = field(default_factory=deque)
    pending_snapshot: int = 0
    snap_offset: int = 0
    below_match_rejects: int = 0
    lost_disk: int = 0
    """How often this follower was found holding less than it had acknowledged."""

    def become_probe(self) -> None:
        if self.state is ProgressState.SNAPSHOT:
            # Probe from the snapshot on: the follower was at least sent it.
            self.next = max(self.match + 1, self.pending_snapshot + 1)
        else:
            self.next = self.match + 1
        self.state = ProgressState.PROBE
        self.pending_snapshot = 0
        self.snap_offset = 0
        self.probe_sent = False
        self.inflights.clear()

    def become_replicate(self) -> None:
        self.state = ProgressState.REPLICATE
        self.next = self.match + 1
        self.pending_snapshot = 0
        self.snap_offset = 0
        self.probe_sent = False
        self.inflights.clear()

    def become_snapshot(self, index: int) -> None:
        """Start sending the snapshot whose last included index is ``index``."""
        self.state = ProgressState.SNAPSHOT
        self.pending_snapshot = index
        self.snap_offset = 0
        self.probe_sent = False
        self.inflights.clear()

    def is_paused(self) -> bool:
        if self.state is ProgressState.PROBE:
            return self.probe_sent
        if self.state is ProgressState.SNAPSHOT:
            return True  # chunks go out on acknowledgements, never as appends
        return len(self.inflights) >= self.max_inflight

    def sent_entries(self, last: int | None) -> None:
        """Record an AppendEntries carrying entries up to ``last`` (None: empty)."""
        if self.state is ProgressState.REPLICATE:
            if last is not None:
                self.next = last + 1
                self.inflights.append(last)
        else:
            self.probe_sent = True

    def maybe_update(self, index: int) -> bool:
        """An acknowledgement up to ``index``; True if it moved ``match``."""
        updated = index > self.match
        if index >= self.match:
            self.below_match_rejects = 0
        if updated:
            self.match = index
            self.probe_sent = False
        self.next = max(self.next, index + 1)
        while self.inflights and self.inflights[0] <= index:
            self.inflights.popleft()
        return updated

    def maybe_decr_to(self, rejected: int, match_hint: int) -> bool:
        """A rejection of the probe at ``rejected``; False if it was stale."""
        if self.state is ProgressState.SNAPSHOT:
            return False  # an answer to an append sent before the snapshot
        if self.state is ProgressState.REPLICATE:
            if rejected <= self.match:
                return False  # an old message, overtaken by a later ack
            self.become_probe()
            return True
        if self.next - 1 != rejected:
            return False  # answers a probe we no longer have outstanding
        if rejected == self.match and match_hint < self.match > 0:
            self.below_match_rejects += 1
            if self.below_match_rejects >= LOST_DISK_REJECTS:
                self.lost_disk += 1
                self.below_match_rejects = 0
                self.match = match_hint
                self.next = match_hint + 1
                self.probe_sent = False
                return True
        self.next = max(min(rejected, match_hint + 1), self.match + 1)
        self.probe_sent = False
        return True

    def free_one_inflight(self) -> None:
        if self.inflights:
            self.inflights.popleft()
