from svgkit.area_chart import area_chart, area_points
from svgkit.document import svg_document
from svgkit.line_chart import chart_points


def test_area_points():
    points = area_points([1, 3, 2], 120, 100, 10)
    assert points == [(10, 90), (10, 90), (60, 10), (110, 50), (110, 90)]
    assert points[1:-1] == chart_points([1, 3, 2], 120, 100, 10)


def test_area_chart():
    assert area_chart([1, 3, 2], 120, 100, 10) == svg_document(
        120, 100, '<polygon points="10,90 10,90 60,10 110,50 110,90" fill="lightsteelblue"/>'
    )
