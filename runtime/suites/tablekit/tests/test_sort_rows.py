from tablekit.sort_rows import sort_by

TABLE = [{"n": 3, "id": 1}, {"id": 2}, {"n": 1, "id": 3}, {"n": None, "id": 4}, {"n": 3, "id": 5}]


def test_ascending_with_missing_last():
    assert [r["id"] for r in sort_by(TABLE, "n")] == [3, 1, 5, 2, 4]


def test_descending_with_missing_still_last():
    assert [r["id"] for r in sort_by(TABLE, "n", descending=True)] == [1, 5, 3, 2, 4]
