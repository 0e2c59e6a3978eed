from mathkit.central import mean, median


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5
    assert mean([5]) == 5


def test_median():
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert median([7]) == 7
    for f in (mean, median):
        try:
            f([])
        except ValueError:
            continue
        raise AssertionError(f"{f.__name__}([]) did not raise ValueError")
