from tablekit.quantile import quantile
from tablekit.summary import summarize

SALES = [
    {"region": "north", "product": "apple", "units": 10, "price": "1.5"},
    {"region": "south", "product": "apple", "units": 20, "price": "1.25"},
    {"region": "north", "product": "pear", "units": 5, "price": None},
    {"region": "east", "product": "pear", "units": "n/a", "price": "2"},
    {"region": "south", "product": "plum", "units": 30},
    {"region": "west", "product": "plum", "units": 5, "price": "3"},
]


def test_summarize():
    assert summarize(SALES, "units") == {
        "count": 5,
        "sum": 70.0,
        "mean": 14.0,
        "min": 5.0,
        "median": 10.0,
        "max": 30.0,
    }


def test_summarize_without_numbers():
    assert summarize(SALES, "product") == {
        "count": 0,
        "sum": 0.0,
        "mean": None,
        "min": None,
        "median": None,
        "max": None,
    }


def test_median_is_the_middle_quantile():
    assert summarize(SALES, "price")["median"] == quantile(SALES, "price", 0.5) == 1.75
