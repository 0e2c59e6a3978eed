from mathkit.poly import poly
from mathkit.poly_eval import evaluate
from mathkit.poly_roots import integer_coefficients, rational_roots


def test_integer_coefficients():
    assert integer_coefficients(poly(["1/2", "-3/2", 1])) == [1, -3, 2]


def test_rational_roots():
    assert rational_roots(poly([-2, 1, 1])) == [(-2, 1), (1, 1)]
    assert rational_roots(poly([0, -1, 2])) == [(0, 1), (1, 2)]
    assert rational_roots(poly(["1/2", "-3/2", 1])) == [(1, 2), (1, 1)]
    assert rational_roots(poly([-1, 3])) == [(1, 3)]
    assert rational_roots(poly([1, -2, 1])) == [(1, 1)]


def test_no_rational_roots():
    assert rational_roots(poly([1, 0, 1])) == []
    assert rational_roots(poly([3])) == []
    try:
        rational_roots([])
    except ValueError:
        return
    raise AssertionError("the zero polynomial did not raise ValueError")


def test_roots_make_the_polynomial_vanish():
    p = poly([6, -5, -2, 1])  # (x - 1)(x + 2)(x - 3)
    roots = rational_roots(p)
    assert roots == [(-2, 1), (1, 1), (3, 1)]
    assert all(evaluate(p, r) == (0, 1) for r in roots)
