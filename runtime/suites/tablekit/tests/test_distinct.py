from tablekit.distinct import distinct


def test_distinct_rows():
    table = [{"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1, "b": 3}]
    assert distinct(table) == [table[0], table[2]]


def test_distinct_keys():
    table = [{"a": 1, "b": 2}, {"a": 1, "b": 3}, {"a": 2, "b": 3}, {"b": 9}]
    assert distinct(table, ["a"]) == [table[0], table[2], table[3]]
    assert distinct(table, ["b"]) == [table[0], table[1], table[3]]
