from tablekit.rename import rename


def test_rename_keeps_order():
    table = [{"a": 1, "b": 2}]
    renamed = rename(table, {"a": "x"})
    assert renamed == [{"x": 1, "b": 2}] and list(renamed[0]) == ["x", "b"]
    assert table == [{"a": 1, "b": 2}]
    assert rename(table, {"a": "b", "b": "a"}) == [{"b": 1, "a": 2}]


def test_rename_collision():
    try:
        rename([{"a": 1, "b": 2}], {"a": "b"})
    except ValueError:
        return
    raise AssertionError("renaming a onto an existing b did not raise ValueError")
