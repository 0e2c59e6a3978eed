from svgkit.element import element
from svgkit.shapes import circle, line, points_attr, polygon, polyline, rect, text


def test_rect_circle_line():
    assert rect(1, 2, 3, 4, fill="red") == '<rect x="1" y="2" width="3" height="4" fill="red"/>'
    assert circle(5, 5, 2.5) == '<circle cx="5" cy="5" r="2.5"/>'
    assert line(0, 0, 10, 10, stroke="black") == '<line x1="0" y1="0" x2="10" y2="10" stroke="black"/>'


def test_text_is_escaped():
    assert text(1, 2, "a<b", text_anchor="end") == '<text x="1" y="2" text-anchor="end">a&lt;b</text>'


def test_polylines_and_polygons():
    assert points_attr([(0, 0), (1, 2.5)]) == "0,0 1,2.5"
    assert polyline([(0, 0), (1, 2.5)], stroke="blue") == '<polyline points="0,0 1,2.5" fill="none" stroke="blue"/>'
    assert polyline([(0, 0), (1, 1)], fill="red") == '<polyline points="0,0 1,1" fill="red"/>'
    assert polygon([(0, 0), (1, 0), (0, 1)], fill="red") == '<polygon points="0,0 1,0 0,1" fill="red"/>'


def test_bad_shapes():
    for make in [
        lambda: rect(0, 0, -1, 1),
        lambda: circle(0, 0, -1),
        lambda: polyline([(0, 0)]),
        lambda: polygon([(0, 0), (1, 1)]),
    ]:
        try:
            make()
        except ValueError:
            continue
        raise AssertionError("a bad shape did not raise ValueError")


def test_shapes_are_elements():
    assert rect(0, 0, 1, 1) == element("rect", {"x": 0, "y": 0, "width": 1, "height": 1})
    assert circle(1, 2, 3, fill="red") == element("circle", {"cx": 1, "cy": 2, "r": 3, "fill": "red"})
