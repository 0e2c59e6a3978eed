from svgkit.document import svg_document
from svgkit.frame import frame
from svgkit.line_chart import chart_points, line_chart


def test_chart_points():
    assert chart_points([1, 3, 2], 120, 100, 10) == [(10, 90), (60, 10), (110, 50)]
    assert chart_points([5, 5], 120, 100, 10) == [(10, 50), (110, 50)]
    try:
        chart_points([1], 120, 100, 10)
    except ValueError:
        return
    raise AssertionError("one value did not raise ValueError")


def test_line_chart():
    assert line_chart([1, 3, 2], 120, 100, 10) == svg_document(
        120,
        100,
        frame(120, 100, 10, [], [(90, "1"), (10, "3")]),
        '<polyline points="10,90 60,10 110,50" fill="none" stroke="steelblue"/>',
    )
