import math

from mathkit.spread import stdev, variance


def test_population_and_sample_variance():
    data = [2, 4, 4, 4, 5, 5, 7, 9]
    assert math.isclose(variance(data), 4.0)
    assert math.isclose(stdev(data), 2.0)
    assert math.isclose(variance(data, sample=True), 32 / 7)
    assert variance([3]) == 0


def test_too_few_values():
    for args, kwargs in [([], {}), ([1], {"sample": True})]:
        try:
            variance(args, **kwargs)
        except ValueError:
            continue
        raise AssertionError(f"variance({args}, {kwargs}) did not raise ValueError")
