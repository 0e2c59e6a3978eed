from tablekit.describe import describe, numeric_columns
from tablekit.summary import summarize

TABLE = [
    {"name": "a", "x": 1, "y": None, "z": "3"},
    {"name": "b", "x": "2", "y": None, "z": "q"},
]


def test_numeric_columns():
    assert numeric_columns(TABLE) == ["x"]
    assert numeric_columns([{"p": 1}, {"q": 2.5}]) == ["p", "q"]


def test_describe():
    assert describe(TABLE) == {"x": summarize(TABLE, "x")}
    assert describe(TABLE)["x"]["mean"] == 1.5
    assert describe([]) == {}
