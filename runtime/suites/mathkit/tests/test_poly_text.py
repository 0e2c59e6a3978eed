from mathkit.poly import poly
from mathkit.poly_text import describe_roots, poly_to_text


def test_poly_to_text():
    assert poly_to_text(poly([1, "-3/2", 1])) == "x^2 - 3/2x + 1"
    assert poly_to_text([]) == "0"
    assert poly_to_text(poly([0, -1])) == "-x"
    assert poly_to_text(poly([-5, 0, 2])) == "2x^2 - 5"
    assert poly_to_text(poly(["1/2"])) == "1/2"
    assert poly_to_text(poly([0, 1, 1]), "t") == "t^2 + t"


def test_describe_roots():
    assert describe_roots(poly([1, -2, 1])) == ["1 (multiplicity 2)"]
    assert describe_roots(poly(["1/2", 1])) == ["-1/2"]
    assert describe_roots(poly([0, -1, 0, 1])) == ["-1", "0", "1"]
    assert describe_roots(poly([1, 0, 1])) == []
