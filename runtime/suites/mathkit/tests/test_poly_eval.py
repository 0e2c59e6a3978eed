from mathkit.fraction import add
from mathkit.poly import poly
from mathkit.poly_compose import compose
from mathkit.poly_eval import evaluate, shift


def test_evaluate():
    assert evaluate([], 5) == (0, 1)
    assert evaluate(poly([1, 2, 3]), 2) == (17, 1)
    assert evaluate(poly([0, 1]), "1/2") == (1, 2)
    assert evaluate(poly(["1/2", 0, 1]), (-1, 2)) == (3, 4)


def test_shift():
    assert shift(poly([0, 0, 1]), 1) == poly([1, 2, 1])
    p = poly([2, -3, 0, 1])
    for x in [(0, 1), (1, 2), (-2, 1)]:
        assert evaluate(shift(p, "1/3"), x) == evaluate(p, add(x, (1, 3)))


def test_evaluating_a_composition():
    p, q = poly([1, 0, -2]), poly(["1/2", 3])
    for x in [(0, 1), (1, 3), (-2, 1)]:
        assert evaluate(compose(p, q), x) == evaluate(p, evaluate(q, x))
