from tablekit.column import column
from tablekit.numeric import numbers, to_number

SALES = [
    {"region": "north", "product": "apple", "units": 10, "price": "1.5"},
    {"region": "south", "product": "apple", "units": 20, "price": "1.25"},
    {"region": "north", "product": "pear", "units": 5, "price": None},
    {"region": "east", "product": "pear", "units": "n/a", "price": "2"},
    {"region": "south", "product": "plum", "units": 30},
    {"region": "west", "product": "plum", "units": 5, "price": "3"},
]


def test_to_number():
    assert to_number(3) == 3.0 and isinstance(to_number(3), float)
    assert to_number(" 2.5 ") == 2.5
    assert to_number("x") is None
    assert to_number(None) is None
    assert to_number(True) is None
    assert to_number([1]) is None


def test_numbers():
    assert numbers(SALES, "units") == [10.0, 20.0, 5.0, 30.0, 5.0]
    assert numbers(SALES, "price") == [1.5, 1.25, 2.0, 3.0]
    assert numbers(SALES, "region") == []


def test_numbers_are_the_convertible_values_of_the_column():
    assert numbers(SALES, "price") == [to_number(v) for v in column(SALES, "price") if to_number(v) is not None]
