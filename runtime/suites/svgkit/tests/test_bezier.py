from svgkit.bezier import cubic_point, quad_point


def test_quad_point():
    assert quad_point((0, 0), (1, 2), (2, 0), 0) == (0, 0)
    assert quad_point((0, 0), (1, 2), (2, 0), 1) == (2, 0)
    assert quad_point((0, 0), (1, 2), (2, 0), 0.5) == (1, 1)


def test_cubic_point():
    assert cubic_point((0, 0), (0, 4), (4, 4), (4, 0), 0.5) == (2, 3)
    assert cubic_point((0, 0), (0, 4), (4, 4), (4, 0), 1) == (4, 0)
