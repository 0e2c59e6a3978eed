from mathkit.poly import poly
from mathkit.poly_compose import compose
from mathkit.poly_pow import poly_pow


def test_compose():
    assert compose(poly([0, 0, 1]), poly([1, 1])) == poly([1, 2, 1])
    assert compose(poly([1, 2]), poly([0, 0, 1])) == poly([1, 0, 2])
    assert compose(poly([5]), poly([1, 2])) == poly([5])
    assert compose([], poly([1, 2])) == []


def test_compose_with_identity():
    p = poly([3, "-1/2", 0, 2])
    assert compose(p, poly([0, 1])) == p
    assert compose(poly([0, 1]), p) == p


def test_composing_with_a_power():
    q = poly([1, "-1/2", 2])
    assert compose(poly([0, 0, 0, 1]), q) == poly_pow(q, 3)
