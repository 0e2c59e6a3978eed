from svgkit.grid import grid_lines


def test_grid_lines():
    assert grid_lines(20, 10, 10, color="red") == [
        '<line x1="0" y1="0" x2="0" y2="10" stroke="red"/>',
        '<line x1="10" y1="0" x2="10" y2="10" stroke="red"/>',
        '<line x1="20" y1="0" x2="20" y2="10" stroke="red"/>',
        '<line x1="0" y1="0" x2="20" y2="0" stroke="red"/>',
        '<line x1="0" y1="10" x2="20" y2="10" stroke="red"/>',
    ]
    assert len(grid_lines(25, 5, 10)) == 3 + 1


def test_bad_step():
    try:
        grid_lines(10, 10, 0)
    except ValueError:
        return
    raise AssertionError("step 0 did not raise ValueError")
