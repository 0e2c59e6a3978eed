from mathkit.poly import poly
from mathkit.poly_factor import roots_with_multiplicity
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


def test_one_description_per_distinct_root():
    p = poly([0, 0, -1, 0, 1])  # x^2 (x - 1)(x + 1)
    assert len(describe_roots(p)) == len(roots_with_multiplicity(p)) == 3
    assert describe_roots(p) == ["-1", "0 (multiplicity 2)", "1"]
