from mathkit.poly import poly
from mathkit.poly_deriv import derivative
from mathkit.poly_eval import evaluate
from mathkit.poly_factor import multiplicity, roots_with_multiplicity
from mathkit.poly_mul import poly_mul


def test_multiplicity():
    square = poly([1, -2, 1])
    assert multiplicity(square, 1) == 2
    assert multiplicity(square, 2) == 0
    assert multiplicity(poly([0, 0, 0, 1]), "0") == 3
    try:
        multiplicity([], 1)
    except ValueError:
        return
    raise AssertionError("the zero polynomial did not raise ValueError")


def test_roots_with_multiplicity():
    p = poly_mul(poly([1, -2, 1]), poly(["1/2", 1]))  # (x - 1)^2 (x + 1/2)
    assert roots_with_multiplicity(p) == [((-1, 2), 1), ((1, 1), 2)]
    assert roots_with_multiplicity(poly([0, 0, 1])) == [((0, 1), 2)]
    assert roots_with_multiplicity(poly([1, 0, 1])) == []


def test_a_double_root_is_a_root_of_the_derivative():
    p = poly_mul(poly([1, -2, 1]), poly(["1/2", 1]))
    assert evaluate(derivative(p), 1) == (0, 1) and multiplicity(p, 1) == 2
    assert evaluate(derivative(p), "-1/2") != (0, 1) and multiplicity(p, "-1/2") == 1
