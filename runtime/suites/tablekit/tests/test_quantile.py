from tablekit.numeric import numbers
from tablekit.quantile import quantile

SALES = [
    {"region": "north", "product": "apple", "units": 10, "price": "1.5"},
    {"region": "south", "product": "apple", "units": 20, "price": "1.25"},
    {"region": "north", "product": "pear", "units": 5, "price": None},
    {"region": "east", "product": "pear", "units": "n/a", "price": "2"},
    {"region": "south", "product": "plum", "units": 30},
    {"region": "west", "product": "plum", "units": 5, "price": "3"},
]


def test_quantiles():
    assert quantile(SALES, "units", 0.5) == 10.0
    assert quantile(SALES, "units", 0.0) == 5.0
    assert quantile(SALES, "units", 1.0) == 30.0
    assert abs(quantile(SALES, "units", 0.9) - 26.0) < 1e-9
    assert quantile(SALES, "price", 0.5) == 1.75


def test_no_numbers_and_bad_q():
    assert quantile(SALES, "region", 0.5) is None
    try:
        quantile(SALES, "units", 1.5)
    except ValueError:
        return
    raise AssertionError("q = 1.5 did not raise ValueError")


def test_extreme_quantiles_are_min_and_max():
    assert quantile(SALES, "units", 0) == min(numbers(SALES, "units"))
    assert quantile(SALES, "units", 1) == max(numbers(SALES, "units"))
