from svgkit.polygon_area import is_clockwise, polygon_area

SQUARE = [(0, 0), (4, 0), (4, 4), (0, 4)]


def test_area():
    assert polygon_area(SQUARE) == 16
    assert polygon_area(list(reversed(SQUARE))) == 16
    assert polygon_area([(0, 0), (4, 0), (0, 3)]) == 6
    assert polygon_area([(1, 1), (3, 1), (3, 4)]) == 3


def test_winding():
    assert is_clockwise(SQUARE)
    assert not is_clockwise(list(reversed(SQUARE)))
