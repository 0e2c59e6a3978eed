from mathkit.poly import poly
from mathkit.poly_mul import poly_mul, poly_scale


def test_poly_scale():
    assert poly_scale(poly([1, 2]), (1, 2)) == poly(["1/2", 1])
    assert poly_scale(poly([1]), (0, 1)) == []


def test_poly_mul():
    assert poly_mul(poly([1, 1]), poly([1, 1])) == poly([1, 2, 1])
    assert poly_mul(poly([1, 1]), poly([-1, 1])) == poly([-1, 0, 1])
    assert poly_mul(poly([0, 1]), poly([0, 0, 1])) == poly([0, 0, 0, 1])
    assert poly_mul([], poly([1, 2])) == []
    assert poly_mul(poly(["1/2"]), poly([2, 4])) == poly([1, 2])
