from tablekit.describe import describe
from tablekit.groups import group_by, group_describe

SALES = [
    {"region": "north", "product": "apple", "units": 10, "price": "1.5"},
    {"region": "south", "product": "apple", "units": 20, "price": "1.25"},
    {"region": "north", "product": "pear", "units": 5, "price": None},
    {"region": "east", "product": "pear", "units": "n/a", "price": "2"},
    {"region": "south", "product": "plum", "units": 30},
    {"region": "west", "product": "plum", "units": 5, "price": "3"},
]


def test_group_by():
    groups = group_by(SALES, "region")
    assert list(groups) == ["north", "south", "east", "west"]
    assert [len(rows) for rows in groups.values()] == [2, 2, 1, 1]
    assert groups["north"][1] is SALES[2]
    assert group_by([{"a": 1}, {"b": 2}], "a") == {1: [{"a": 1}], None: [{"b": 2}]}


def test_group_describe_leaves_out_the_key():
    table = [{"year": 2020, "v": 1}, {"year": 2020, "v": 3}, {"year": 2021, "v": 5}]
    assert group_describe(table, "year") == {
        2020: {"v": {"count": 2, "sum": 4.0, "mean": 2.0, "min": 1.0, "median": 2.0, "max": 3.0}},
        2021: {"v": {"count": 1, "sum": 5.0, "mean": 5.0, "min": 5.0, "median": 5.0, "max": 5.0}},
    }


def test_group_describe_describes_each_group():
    north = [{k: v for k, v in row.items() if k != "region"} for row in SALES if row["region"] == "north"]
    assert group_describe(SALES, "region")["north"] == describe(north)
