from mathkit.intervals import merge_intervals


def test_merge():
    assert merge_intervals([]) == []
    assert merge_intervals([(5, 6), (1, 3), (2, 4)]) == [(1, 4), (5, 6)]
    assert merge_intervals([(1, 10), (2, 3)]) == [(1, 10)]


def test_touching_intervals_merge():
    assert merge_intervals([(1, 2), (2, 3)]) == [(1, 3)]
    assert merge_intervals([(0, 0), (0, 1)]) == [(0, 1)]


def test_reversed_interval():
    try:
        merge_intervals([(3, 1)])
    except ValueError:
        return
    raise AssertionError("(3, 1) did not raise ValueError")
