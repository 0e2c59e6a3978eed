from svgkit.regular import regular_polygon


def test_square_and_triangle():
    assert regular_polygon(0, 0, 10, 4) == [(0, -10), (10, 0), (0, 10), (-10, 0)]
    assert regular_polygon(5, 5, 2, 3) == [(5, 3), (6.732, 6.0), (3.268, 6.0)]


def test_rotation_and_errors():
    assert regular_polygon(0, 0, 10, 4, rotation=90)[0] == (10, 0)
    try:
        regular_polygon(0, 0, 1, 2)
    except ValueError:
        return
    raise AssertionError("n = 2 did not raise ValueError")
