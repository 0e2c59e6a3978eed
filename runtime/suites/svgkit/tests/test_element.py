from svgkit.attrs import attrs
from svgkit.element import element


def test_empty_elements_close_themselves():
    assert element("rect") == "<rect/>"
    assert element("rect", {"x": 1, "id": None}) == '<rect x="1"/>'
    assert element("circle", {"r": 2.5}) == "<circle" + attrs({"r": 2.5}) + "/>"


def test_children():
    assert element("g", {"id": "a"}, "<rect/>", "<circle/>") == '<g id="a"><rect/><circle/></g>'
    assert element("text", None, "hi") == "<text>hi</text>"
