from mathkit.poly import poly
from mathkit.poly_report import report
from mathkit.poly_text import describe_roots, poly_to_text


def test_report():
    assert report(poly([1, -2, 1])) == (
        "p(x) = x^2 - 2x + 1\ndegree: 2\np'(x) = 2x - 2\nrational roots: 1 (multiplicity 2)"
    )


def test_report_without_roots_and_for_zero():
    assert report(poly([1, 0, 1]), "t") == "p(t) = t^2 + 1\ndegree: 2\np'(t) = 2t\nrational roots: none"
    assert report([]) == "p(x) = 0\ndegree: -1\np'(x) = 0\nrational roots: every number"


def test_report_is_built_from_the_text_helpers():
    p = poly([0, 0, -1, 0, 1])
    lines = report(p).splitlines()
    assert lines[0] == "p(x) = " + poly_to_text(p)
    assert lines[-1] == "rational roots: " + ", ".join(describe_roots(p))
