from tablekit.aggregate import aggregate
from tablekit.groups import group_by

SALES = [
    {"region": "north", "product": "apple", "units": 10, "price": "1.5"},
    {"region": "south", "product": "apple", "units": 20, "price": "1.25"},
    {"region": "north", "product": "pear", "units": 5, "price": None},
    {"region": "east", "product": "pear", "units": "n/a", "price": "2"},
    {"region": "south", "product": "plum", "units": 30},
    {"region": "west", "product": "plum", "units": 5, "price": "3"},
]


def test_sum_and_count():
    assert aggregate(SALES, "region", "units") == [
        {"region": "north", "sum_units": 15.0},
        {"region": "south", "sum_units": 50.0},
        {"region": "east", "sum_units": 0.0},
        {"region": "west", "sum_units": 5.0},
    ]
    assert [row["count_units"] for row in aggregate(SALES, "region", "units", "count")] == [2, 2, 0, 1]


def test_mean_and_unknown():
    assert [row["mean_units"] for row in aggregate(SALES, "region", "units", "mean")] == [7.5, 25.0, None, 5.0]
    try:
        aggregate(SALES, "region", "units", "mode")
    except ValueError:
        return
    raise AssertionError("an unknown aggregate did not raise ValueError")


def test_one_row_per_group_in_group_order():
    assert [row["region"] for row in aggregate(SALES, "region", "units")] == list(group_by(SALES, "region"))
