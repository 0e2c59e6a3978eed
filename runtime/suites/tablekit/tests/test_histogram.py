from tablekit.histogram import histogram


def test_histogram():
    assert histogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5, 0, 10) == [2, 2, 2, 2, 3]
    assert histogram([-1, 11, 5], 2, 0, 10) == [0, 1]
    assert histogram([], 3, 0, 1) == [0, 0, 0]


def test_bad_arguments():
    for args in [([1], 0, 0, 1), ([1], 2, 1, 1)]:
        try:
            histogram(*args)
        except ValueError:
            continue
        raise AssertionError(f"histogram{args} did not raise ValueError")
