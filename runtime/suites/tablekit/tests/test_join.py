from tablekit.join import inner_join

PEOPLE = [{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}, {"id": None, "name": "nobody"}]
ORDERS = [{"id": 2, "item": "pen"}, {"id": 1, "item": "cup"}, {"id": 2, "item": "ink"}, {"id": None, "item": "?"}]


def test_inner_join():
    assert inner_join(PEOPLE, ORDERS, "id") == [
        {"id": 1, "name": "ann", "item": "cup"},
        {"id": 2, "name": "bob", "item": "pen"},
        {"id": 2, "name": "bob", "item": "ink"},
    ]
    assert inner_join(PEOPLE, [], "id") == []
