from svgkit.css_style import parse_style, style_string


def test_style_string():
    assert style_string({"fill": "red", "stroke_width": 2, "opacity": None}) == "fill: red; stroke-width: 2"
    assert style_string({}) == ""


def test_parse_style():
    assert parse_style("fill:red; Stroke-Width: 2 ;") == {"fill": "red", "stroke-width": "2"}
    assert parse_style("fill: red; fill: blue") == {"fill": "blue"}
    try:
        parse_style("fill red")
    except ValueError:
        return
    raise AssertionError("a part without ':' did not raise ValueError")
