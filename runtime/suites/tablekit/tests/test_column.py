from tablekit.column import column
from tablekit.table import columns

TABLE = [{"a": 1}, {"b": 2, "a": 3}, {"c": None}]


def test_column_values_with_none_for_missing():
    assert column(TABLE, "a") == [1, 3, None]
    assert column(TABLE, "b") == [None, 2, None]
    assert all(len(column(TABLE, name)) == len(TABLE) for name in columns(TABLE))


def test_unknown_column():
    try:
        column(TABLE, "zz")
    except KeyError:
        return
    raise AssertionError("an unknown column did not raise KeyError")
