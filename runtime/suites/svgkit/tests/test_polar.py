from svgkit.polar import pie_angles, polar_to_cartesian


def test_polar_to_cartesian():
    assert polar_to_cartesian(0, 0, 10, 0) == (0, -10)
    assert polar_to_cartesian(0, 0, 10, 90) == (10, 0)
    assert polar_to_cartesian(5, 5, 10, 180) == (5, 15)


def test_pie_angles():
    assert pie_angles([1, 1, 2]) == [(0, 90), (90, 180), (180, 360)]
    assert pie_angles([0, 3]) == [(0, 0), (0, 360)]
    for values in [[1, -1, 2], [0, 0], []]:
        try:
            pie_angles(values)
        except ValueError:
            continue
        raise AssertionError(f"pie_angles({values}) did not raise ValueError")
