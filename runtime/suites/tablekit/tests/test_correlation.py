import math

from tablekit.correlation import pearson


def test_pearson():
    assert math.isclose(pearson([1, 2, 3], [2, 4, 6]), 1.0)
    assert math.isclose(pearson([1, 2, 3], [3, 2, 1]), -1.0)
    assert math.isclose(pearson([1, 2, 3, 4], [1, 3, 2, 4]), 0.8)


def test_undefined():
    for xs, ys in [([1, 2], [1]), ([1], [1]), ([1, 1, 1], [1, 2, 3])]:
        try:
            pearson(xs, ys)
        except ValueError:
            continue
        raise AssertionError(f"pearson({xs}, {ys}) did not raise ValueError")
