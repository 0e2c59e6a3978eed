from tablekit.top import top_n
from tablekit.top_other import top_with_other

SALES = [
    {"region": "north", "product": "apple", "units": 10, "price": "1.5"},
    {"region": "south", "product": "apple", "units": 20, "price": "1.25"},
    {"region": "north", "product": "pear", "units": 5, "price": None},
    {"region": "east", "product": "pear", "units": "n/a", "price": "2"},
    {"region": "south", "product": "plum", "units": 30},
    {"region": "west", "product": "plum", "units": 5, "price": "3"},
]
TIES = [{"k": "a", "v": 5}, {"k": "b", "v": 7}, {"k": "c", "v": 5}, {"k": "d", "v": 1}]


def test_top_with_other():
    assert top_with_other(TIES, "k", "v", 1) == [{"k": "b", "sum_v": 7.0}, {"k": "(other)", "sum_v": 11.0}]
    assert top_with_other(TIES, "k", "v", 1, other="rest")[-1] == {"k": "rest", "sum_v": 11.0}
    assert top_with_other(TIES, "k", "v", 2)[-1] == {"k": "(other)", "sum_v": 1.0}
    assert top_with_other(TIES, "k", "v", 5) == [
        {"k": "b", "sum_v": 7.0},
        {"k": "a", "sum_v": 5.0},
        {"k": "c", "sum_v": 5.0},
        {"k": "d", "sum_v": 1.0},
    ]


def test_counts_and_bad_statistic():
    assert top_with_other(SALES, "region", "units", 1, "count") == [
        {"region": "north", "count_units": 2},
        {"region": "south", "count_units": 2},
        {"region": "(other)", "count_units": 1},
    ]
    try:
        top_with_other(TIES, "k", "v", 1, "mean")
    except ValueError:
        return
    raise AssertionError("how='mean' did not raise ValueError")


def test_top_rows_come_first():
    rows = top_with_other(TIES, "k", "v", 2)
    assert rows[:-1] == [{"k": r["k"], "sum_v": r["sum_v"]} for r in top_n(TIES, "k", "v", 2)]
