from tablekit.records import from_columns, to_columns


def test_round_trip():
    table = [{"a": 1, "b": 2}, {"b": 3, "c": 4}]
    columns = to_columns(table)
    assert columns == {"a": [1, None], "b": [2, 3], "c": [None, 4]}
    assert from_columns(columns) == [{"a": 1, "b": 2, "c": None}, {"a": None, "b": 3, "c": 4}]
    assert from_columns({}) == [] and to_columns([]) == {}


def test_unequal_columns():
    try:
        from_columns({"a": [1, 2], "b": [1]})
    except ValueError:
        return
    raise AssertionError("columns of different lengths did not raise ValueError")
