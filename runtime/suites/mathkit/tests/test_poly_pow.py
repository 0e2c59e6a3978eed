from mathkit.poly import poly
from mathkit.poly_mul import poly_mul
from mathkit.poly_pow import poly_pow


def test_small_powers():
    p = poly([1, 1])
    assert poly_pow(p, 0) == poly([1])
    assert poly_pow(p, 1) == p
    assert poly_pow(p, 2) == poly([1, 2, 1])
    assert poly_pow(p, 3) == poly([1, 3, 3, 1])


def test_larger_powers_and_edge_cases():
    assert poly_pow(poly([0, 1]), 5) == poly([0, 0, 0, 0, 0, 1])
    assert poly_pow(poly(["1/2"]), 3) == poly(["1/8"])
    assert poly_pow([], 2) == []
    try:
        poly_pow(poly([1]), -1)
    except ValueError:
        return
    raise AssertionError("a negative exponent did not raise ValueError")


def test_powers_are_repeated_products():
    p = poly([1, "1/2", 3])
    assert poly_pow(p, 2) == poly_mul(p, p)
    assert poly_pow(p, 3) == poly_mul(p, poly_mul(p, p))
