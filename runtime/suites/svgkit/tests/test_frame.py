from svgkit.axis import x_axis, y_axis
from svgkit.frame import frame, plot_area


def test_plot_area():
    assert plot_area(200, 120, 20) == (20, 20, 180, 100)
    try:
        plot_area(40, 100, 20)
    except ValueError:
        return
    raise AssertionError("a margin filling the width did not raise ValueError")


def test_frame():
    assert frame(200, 120, 20, [(50, "a")], [(100, "0")]) == (
        '<g class="frame">' + x_axis(20, 180, 100, [(50, "a")]) + y_axis(20, 100, 20, [(100, "0")]) + "</g>"
    )
