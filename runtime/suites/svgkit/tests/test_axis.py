from svgkit.arrow import arrow
from svgkit.axis import x_axis, y_axis


def test_x_axis():
    assert x_axis(0, 100, 50, [(10, "a")]) == (
        '<g class="x-axis">'
        + arrow(0, 50, 100, 50)
        + '<line x1="10" y1="50" x2="10" y2="54" stroke="black"/><text x="10" y="66" text-anchor="middle">a</text></g>'
    )
    assert x_axis(0, 10, 0, []) == '<g class="x-axis">' + arrow(0, 0, 10, 0) + "</g>"


def test_y_axis():
    assert y_axis(20, 100, 0, [(80, "1")]) == (
        '<g class="y-axis">'
        + arrow(20, 100, 20, 0)
        + '<line x1="16" y1="80" x2="20" y2="80" stroke="black"/><text x="14" y="84" text-anchor="end">1</text></g>'
    )
