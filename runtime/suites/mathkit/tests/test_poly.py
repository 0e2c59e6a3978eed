from mathkit.fraction_sum import frac_sum
from mathkit.poly import degree, poly, poly_add


def test_poly_normalises_and_trims():
    assert poly([1, "1/2", 0, 0]) == [(1, 1), (1, 2)]
    assert poly([0, 0]) == []
    assert poly([(2, 4), "-3"]) == [(1, 2), (-3, 1)]


def test_degree():
    assert degree([]) == -1
    assert degree(poly([5])) == 0
    assert degree(poly([1, 2])) == 1


def test_poly_add():
    assert poly_add(poly([1, 2, 3]), poly([0, -2, -3])) == [(1, 1)]
    assert poly_add([], poly([1])) == [(1, 1)]
    assert poly_add(poly(["1/2"]), poly(["1/3", 1])) == [(5, 6), (1, 1)]
    assert poly_add(poly([1, 1]), poly([-1, -1])) == []


def test_poly_add_adds_coefficients_exactly():
    assert poly_add(poly(["1/2", 1]), poly(["1/3"]))[0] == frac_sum(["1/2", "1/3"])
