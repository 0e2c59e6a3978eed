from tablekit.moving import moving_average


def test_moving_average():
    assert moving_average([1, 2, 3, 4, 5], 3) == [None, None, 2.0, 3.0, 4.0]
    assert moving_average([4, 6], 1) == [4.0, 6.0]
    assert moving_average([1, 2], 3) == [None, None]


def test_bad_window():
    try:
        moving_average([1], 0)
    except ValueError:
        return
    raise AssertionError("window 0 did not raise ValueError")
