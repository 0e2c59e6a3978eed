from tablekit.aggregate import aggregate
from tablekit.rank import rank

SALES = [
    {"region": "north", "product": "apple", "units": 10, "price": "1.5"},
    {"region": "south", "product": "apple", "units": 20, "price": "1.25"},
    {"region": "north", "product": "pear", "units": 5, "price": None},
    {"region": "east", "product": "pear", "units": "n/a", "price": "2"},
    {"region": "south", "product": "plum", "units": 30},
    {"region": "west", "product": "plum", "units": 5, "price": "3"},
]
TIES = [{"k": "a", "v": 5}, {"k": "b", "v": 7}, {"k": "c", "v": 5}, {"k": "d", "v": 1}]


def test_rank():
    assert [(r["region"], r["sum_units"], r["rank"]) for r in rank(SALES, "region", "units")] == [
        ("south", 50.0, 1),
        ("north", 15.0, 2),
        ("west", 5.0, 3),
        ("east", 0.0, 4),
    ]


def test_ties_and_direction():
    assert [(r["k"], r["rank"]) for r in rank(TIES, "k", "v")] == [("b", 1), ("a", 2), ("c", 2), ("d", 4)]
    assert [(r["k"], r["rank"]) for r in rank(TIES, "k", "v", descending=False)] == [
        ("d", 1),
        ("a", 2),
        ("c", 2),
        ("b", 4),
    ]


def test_groups_without_a_value_are_left_out():
    assert [r["region"] for r in rank(SALES, "region", "units", "mean")] == ["south", "north", "west"]


def test_rank_reorders_the_aggregate():
    ranked = {(r["region"], r["mean_units"]) for r in rank(SALES, "region", "units", "mean")}
    expected = {(r["region"], r["mean_units"]) for r in aggregate(SALES, "region", "units", "mean")}
    assert ranked == {pair for pair in expected if pair[1] is not None}
