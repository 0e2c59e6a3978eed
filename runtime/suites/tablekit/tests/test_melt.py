from tablekit.melt import melt


def test_melt():
    table = [{"id": 1, "x": 10, "y": 20}, {"id": 2, "x": 30}]
    assert melt(table, ["id"], ["x", "y"]) == [
        {"id": 1, "variable": "x", "value": 10},
        {"id": 1, "variable": "y", "value": 20},
        {"id": 2, "variable": "x", "value": 30},
        {"id": 2, "variable": "y", "value": None},
    ]
    assert melt(table[:1], [], ["y"], "var", "val") == [{"var": "y", "val": 20}]
