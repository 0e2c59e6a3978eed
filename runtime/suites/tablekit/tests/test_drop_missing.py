from tablekit.drop_missing import drop_missing

TABLE = [{"a": 1, "b": 2}, {"a": None, "b": 2}, {"a": 1}, {"a": 3, "b": 4}]


def test_drop_missing_named_columns():
    assert drop_missing(TABLE, ["a"]) == [TABLE[0], TABLE[2], TABLE[3]]
    assert drop_missing(TABLE, ["a", "b"]) == [TABLE[0], TABLE[3]]


def test_drop_missing_all_columns():
    assert drop_missing(TABLE) == [TABLE[0], TABLE[3]]
    assert drop_missing([{"a": 1}, {"a": 2, "b": None}]) == []
