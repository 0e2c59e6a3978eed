from tablekit.table import check_table, columns


def test_columns_in_order_of_first_appearance():
    assert columns([{"a": 1}, {"b": 2, "a": 3}, {"c": None}]) == ["a", "b", "c"]
    assert columns([]) == []


def test_check_table():
    table = [{"a": 1}]
    assert check_table(table) is table
    for bad in ["x", [{"a": 1}, 5], [{1: "a"}], ({"a": 1},)]:
        try:
            check_table(bad)
        except TypeError:
            continue
        raise AssertionError(f"check_table({bad!r}) did not raise TypeError")
