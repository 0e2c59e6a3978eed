from tablekit.fill import fill_missing


def test_fill_missing():
    table = [{"a": None, "b": 1}, {"b": None}, {"a": 5}]
    assert fill_missing(table, {"a": 0}) == [{"a": 0, "b": 1}, {"b": None, "a": 0}, {"a": 5}]
    assert fill_missing(table, {"b": -1, "c": "x"})[2] == {"a": 5, "b": -1, "c": "x"}
    assert table[0] == {"a": None, "b": 1}
