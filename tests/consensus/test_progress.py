"""Tests for consensus.progress.Progress: probe/replicate flow control."""

from __future__ import annotations

from lmteams.consensus.core.progress import Progress, ProgressState


def replicating(match: int, max_inflight: int = 3) -> Progress:
    pr = Progress(next=match + 1, max_inflight=max_inflight, match=match)
    pr.become_replicate()
    return pr


def test_new_progress_probes_and_is_not_paused() -> None:
    pr = Progress(next=5, max_inflight=4)
    assert pr.state is ProgressState.PROBE
    assert pr.match == 0
    assert not pr.is_paused()


def test_probe_pauses_after_one_send() -> None:
    pr = Progress(next=5, max_inflight=4)
    pr.sent_entries(7)
    assert pr.is_paused()
    assert pr.next == 5  # probing does not advance next optimistically
    pr.sent_entries(None)
    assert pr.is_paused()


def test_probe_pauses_after_an_empty_send_too() -> None:
    pr = Progress(next=5, max_inflight=4)
    pr.sent_entries(None)
    assert pr.is_paused()


def test_probe_unpauses_on_update() -> None:
    pr = Progress(next=5, max_inflight=4)
    pr.sent_entries(7)
    assert pr.maybe_update(7) is True
    assert pr.match == 7
    assert pr.next == 8
    assert not pr.is_paused()


def test_update_that_does_not_advance_match() -> None:
    pr = Progress(next=8, max_inflight=4, match=7)
    assert pr.maybe_update(6) is False
    assert pr.maybe_update(7) is False
    assert pr.match == 7
    assert pr.next == 8


def test_become_replicate_and_probe_reset_next_from_match() -> None:
    pr = Progress(next=20, max_inflight=4, match=5)
    pr.become_replicate()
    assert pr.state is ProgressState.REPLICATE
    assert pr.next == 6
    pr.sent_entries(9)
    pr.become_probe()
    assert pr.state is ProgressState.PROBE
    assert pr.next == 6
    assert not pr.is_paused()
    assert len(pr.inflights) == 0


def test_replicate_pipelines_up_to_max_inflight() -> None:
    pr = replicating(match=5, max_inflight=3)
    pr.sent_entries(7)
    assert pr.next == 8 and not pr.is_paused()
    pr.sent_entries(9)
    assert pr.next == 10 and not pr.is_paused()
    pr.sent_entries(10)
    assert pr.next == 11
    assert pr.is_paused()


def test_replicate_empty_sends_do_not_count_as_inflight() -> None:
    pr = replicating(match=5, max_inflight=1)
    for _ in range(5):
        pr.sent_entries(None)
    assert not pr.is_paused()
    assert pr.next == 6


def test_replicate_ack_frees_inflights_up_to_the_ack() -> None:
    pr = replicating(match=5, max_inflight=3)
    for last in (7, 9, 10):
        pr.sent_entries(last)
    assert pr.is_paused()
    assert pr.maybe_update(7) is True
    assert not pr.is_paused()
    assert list(pr.inflights) == [9, 10]
    assert pr.next == 11  # an ack does not rewind the optimistic next
    pr.sent_entries(12)
    assert pr.is_paused()
    assert pr.maybe_update(10) is True
    assert list(pr.inflights) == [12]
    assert pr.match == 10
    assert pr.maybe_update(12) is True
    assert not pr.inflights and not pr.is_paused()


def test_free_one_inflight() -> None:
    pr = replicating(match=0, max_inflight=2)
    pr.sent_entries(1)
    pr.sent_entries(2)
    assert pr.is_paused()
    pr.free_one_inflight()
    assert not pr.is_paused()
    assert list(pr.inflights) == [2]
    pr.free_one_inflight()
    pr.free_one_inflight()  # on empty: no error
    assert not pr.inflights


def test_reject_in_replicate_goes_back_to_probe_from_match_plus_one() -> None:
    pr = replicating(match=5, max_inflight=3)
    pr.sent_entries(8)
    pr.sent_entries(10)
    assert pr.maybe_decr_to(8, 2) is True
    assert pr.state is ProgressState.PROBE
    assert pr.next == 6
    assert not pr.is_paused()
    assert not pr.inflights


def test_stale_reject_in_replicate_is_ignored() -> None:
    pr = replicating(match=5, max_inflight=3)
    pr.sent_entries(8)
    assert pr.maybe_decr_to(5, 0) is False
    assert pr.maybe_decr_to(3, 0) is False
    assert pr.state is ProgressState.REPLICATE
    assert pr.next == 9
    assert list(pr.inflights) == [8]


def test_stale_reject_in_probe_is_ignored() -> None:
    pr = Progress(next=10, max_inflight=3, match=2)
    pr.sent_entries(None)
    # Our outstanding probe is at prev index 9; a reject of 7 answers an older one.
    assert pr.maybe_decr_to(7, 3) is False
    assert pr.next == 10
    assert pr.is_paused()
    assert pr.maybe_decr_to(12, 3) is False
    assert pr.next == 10


def test_probe_reject_uses_the_hint() -> None:
    pr = Progress(next=10, max_inflight=3, match=2)
    pr.sent_entries(None)
    assert pr.maybe_decr_to(9, 5) is True
    assert pr.next == 6
    assert not pr.is_paused()  # free to send the next probe


def test_probe_reject_hint_above_rejected_is_capped_by_rejected() -> None:
    pr = Progress(next=10, max_inflight=3, match=2)
    assert pr.maybe_decr_to(9, 50) is True
    assert pr.next == 9


def test_probe_reject_never_below_match_plus_one() -> None:
    pr = Progress(next=10, max_inflight=3, match=4)
    assert pr.maybe_decr_to(9, 0) is True
    assert pr.next == 5
    pr2 = Progress(next=10, max_inflight=3, match=4)
    assert pr2.maybe_decr_to(9, 2) is True
    assert pr2.next == 5


def test_probe_reject_on_empty_match_goes_to_one_at_least() -> None:
    pr = Progress(next=3, max_inflight=3)
    assert pr.maybe_decr_to(2, 0) is True
    assert pr.next == 1


def test_successive_rejects_walk_back() -> None:
    pr = Progress(next=20, max_inflight=3, match=0)
    assert pr.maybe_decr_to(19, 12) is True
    assert pr.next == 13
    pr.sent_entries(None)
    assert pr.maybe_decr_to(19, 5) is False  # the old probe again: stale
    assert pr.maybe_decr_to(12, 4) is True
    assert pr.next == 5
