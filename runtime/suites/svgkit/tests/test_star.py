from svgkit.star import star_points


def test_star_points():
    points = star_points(0, 0, 10, 5, 4)
    assert len(points) == 8
    assert points[:3] == [(0, -10), (3.536, -3.536), (10, 0)]
    assert points[-1] == (-3.536, -3.536)


def test_errors():
    for args in [(0, 0, 10, 5, 1), (0, 0, 5, 10, 5)]:
        try:
            star_points(*args)
        except ValueError:
            continue
        raise AssertionError(f"star_points{args} did not raise ValueError")
