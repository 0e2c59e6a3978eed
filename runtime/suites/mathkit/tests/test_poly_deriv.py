from mathkit.poly import poly
from mathkit.poly_deriv import critical_points, derivative
from mathkit.poly_roots import rational_roots


def test_derivative():
    assert derivative([]) == []
    assert derivative(poly([5])) == []
    assert derivative(poly([1, 2, 3])) == poly([2, 6])
    assert derivative(poly([0, 0, 0, 1])) == poly([0, 0, 3])
    assert derivative(poly(["1/2", "1/3", "1/4"])) == poly(["1/3", "1/2"])


def test_critical_points():
    assert critical_points(poly([0, -2, 1])) == [(1, 1)]
    assert critical_points(poly([0, -3, 0, 1])) == [(-1, 1), (1, 1)]
    assert critical_points(poly([0, 1])) == []
    assert critical_points(poly([7])) == []


def test_critical_points_are_roots_of_the_derivative():
    p = poly([0, -3, 0, 1])
    assert critical_points(p) == rational_roots(derivative(p))
