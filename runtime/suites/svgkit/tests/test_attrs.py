from svgkit.attrs import attrs, escape
from svgkit.fmt import fmt


def test_escape():
    assert escape('a<b & "c">') == "a&lt;b &amp; &quot;c&quot;&gt;"
    assert escape("plain") == "plain"


def test_attrs():
    assert attrs({"x": 1, "fill": "red"}) == ' x="1" fill="red"'
    assert attrs({"stroke_width": 1.5, "class_": "a", "title": None}) == ' stroke-width="1.5" class="a"'
    assert attrs({"label": 'x"y<'}) == ' label="x&quot;y&lt;"'
    assert attrs({"opacity": 1 / 3, "viewBox": "0 0 1 1"}) == ' opacity="0.333" viewBox="0 0 1 1"'
    assert attrs({}) == ""


def test_numbers_go_through_fmt():
    assert attrs({"x": 1 / 3, "y": -0.0001}) == f' x="{fmt(1 / 3)}" y="{fmt(-0.0001)}"'
