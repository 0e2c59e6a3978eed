from tablekit.left_join import left_join

PEOPLE = [{"id": 1, "name": "ann"}, {"id": 3, "name": "cat"}]
ORDERS = [{"id": 1, "item": "cup", "qty": 2}, {"id": 1, "item": "pen"}]


def test_left_join():
    assert left_join(PEOPLE, ORDERS, "id") == [
        {"id": 1, "name": "ann", "item": "cup", "qty": 2},
        {"id": 1, "name": "ann", "item": "pen"},
        {"id": 3, "name": "cat", "item": None, "qty": None},
    ]


def test_left_join_with_none_keys():
    assert left_join([{"id": None}], [{"id": None, "x": 1}], "id") == [{"id": None, "x": None}]
