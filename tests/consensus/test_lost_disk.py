"""A leader notices a follower that holds less than it acknowledged (a lost or wiped disk)."""

from __future__ import annotations

from lmteams.consensus import MessageType
from lmteams.consensus.core.progress import LOST_DISK_REJECTS, Progress, ProgressState

from .test_raft_core import IDS3, elect, new_core, run

MT = MessageType


def test_a_wiped_follower_is_reported_and_caught_up_instead_of_ignored() -> None:
    cores = {i: new_core(i, IDS3, seed=int(i)) for i in IDS3}
    run(cores, elect(cores["1"]).messages)
    leader = cores["1"]
    for k in range(10):
        leader.propose(b"v%d" % k)
    run(cores, [])
    last = leader.log.last_index()
    pr = leader.progress("3")
    assert pr is not None and pr.match == last
    assert leader.lost_disks() == {}

    cores["3"] = new_core("3", IDS3, seed=3)  # the same id, an empty disk
    leader.propose(b"after the wipe")
    run(cores, [])
    pr = leader.progress("3")
    assert leader.lost_disks() == {"3": 1}  # before the fix: no trace, and "3" stayed empty
    assert leader.status()["lost_disk"] == {"3": 1}
    assert pr is not None and pr.match == leader.log.last_index()
    assert cores["3"].log.last_index() == leader.log.last_index()


def test_one_stale_reject_below_match_is_not_a_lost_disk() -> None:
    pr = Progress(next=11, max_inflight=4, match=10)
    assert pr.state is ProgressState.PROBE
    pr.sent_entries(None)
    assert pr.maybe_decr_to(10, 3)  # reordered behind the ack of 10: counted, not acted on
    assert (pr.match, pr.next, pr.lost_disk) == (10, 11, 0)
    pr.maybe_update(10)  # an acknowledgement in between resets the count
    for _ in range(LOST_DISK_REJECTS - 1):
        pr.sent_entries(None)
        pr.maybe_decr_to(10, 3)
    assert (pr.match, pr.lost_disk) == (10, 0)
    pr.sent_entries(None)
    assert pr.maybe_decr_to(10, 3)
    assert (pr.match, pr.next, pr.lost_disk) == (3, 4, 1)


def test_a_wiped_follower_of_a_quiet_cluster_is_found_by_heartbeats() -> None:
    cores = {i: new_core(i, IDS3, seed=int(i)) for i in IDS3}
    run(cores, elect(cores["1"]).messages)
    leader = cores["1"]
    leader.propose(b"v")
    run(cores, [])
    cores["3"] = new_core("3", IDS3, seed=3)  # wiped; nothing is proposed after
    for _ in range(leader.config.heartbeat_interval):
        leader.tick()
    run(cores, [])
    assert leader.lost_disks() == {"3": 1}  # before: match stayed 2, heartbeats went unanswered in kind
    assert cores["3"].log.last_index() == leader.log.last_index()
