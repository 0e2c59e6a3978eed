from svgkit.area_chart import area_points
from svgkit.document import svg_document
from svgkit.sparkline import sparkline, sparkline_shapes

LINE = '<polyline points="2,18 98,2" fill="none" stroke="black"/>'


def test_sparkline_shapes():
    assert sparkline_shapes([1, 2]) == [LINE]
    assert sparkline_shapes([1, 2], fill="#eee") == [
        '<polygon points="2,18 2,18 98,2 98,18" fill="#eee" stroke="none"/>',
        LINE,
    ]
    assert area_points([1, 2], 100, 20, 2)[0] == (2, 18)


def test_sparkline():
    assert sparkline([1, 2]) == svg_document(100, 20, LINE)
