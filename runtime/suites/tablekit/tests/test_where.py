from tablekit.where import where

TABLE = [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}, {"a": 1, "b": "y"}, {"b": None}]


def test_where():
    assert where(TABLE, a=1) == [TABLE[0], TABLE[2]]
    assert where(TABLE, a=1, b="y") == [TABLE[2]]
    assert where(TABLE) == TABLE


def test_missing_columns_never_match():
    assert where(TABLE, a=None) == []
    assert where(TABLE, b=None) == [TABLE[3]]
