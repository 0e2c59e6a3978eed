from tablekit.select import select


def test_select():
    table = [{"a": 1, "b": 2, "c": 3}, {"b": 5}]
    assert select(table, ["c", "a"]) == [{"c": 3, "a": 1}, {"c": None, "a": None}]
    assert list(select(table, ["c", "a"])[0]) == ["c", "a"]
    assert select([], ["a"]) == []
    assert table[0] == {"a": 1, "b": 2, "c": 3}
