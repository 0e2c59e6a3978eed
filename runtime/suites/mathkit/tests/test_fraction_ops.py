from mathkit.fraction import make
from mathkit.fraction_ops import div, mul, neg, sub


def test_neg_and_sub():
    assert neg((1, 2)) == (-1, 2)
    assert neg((0, 1)) == (0, 1)
    assert sub((1, 2), (1, 3)) == (1, 6)
    assert sub((1, 3), (1, 2)) == (-1, 6)


def test_mul_and_div():
    assert mul((2, 3), (3, 4)) == (1, 2)
    assert div((1, 2), (1, 4)) == (2, 1)
    assert div((1, 2), (-1, 4)) == (-2, 1)
    assert div(make(3), make(6)) == (1, 2)


def test_div_by_zero():
    try:
        div((1, 2), (0, 1))
    except ZeroDivisionError:
        return
    raise AssertionError("dividing by 0 did not raise ZeroDivisionError")
