from mathkit.fraction import add, make
from mathkit.lcm import lcm


def test_make_reduces_and_moves_the_sign():
    assert make(2, 4) == (1, 2)
    assert make(1, -2) == (-1, 2)
    assert make(-3, -6) == (1, 2)
    assert make(0, 5) == (0, 1)
    assert make(3) == (3, 1)


def test_make_rejects_a_zero_denominator():
    try:
        make(1, 0)
    except ZeroDivisionError:
        return
    raise AssertionError("make(1, 0) did not raise ZeroDivisionError")


def test_add():
    assert add((1, 2), (1, 3)) == (5, 6)
    assert add((1, 6), (1, 3)) == (1, 2)
    assert add((1, 2), (-1, 2)) == (0, 1)
    assert add((-1, 4), (-1, 4)) == (-1, 2)


def test_add_works_over_the_least_common_denominator():
    for x, y in [((1, 6), (1, 4)), ((1, 2), (1, 2)), ((3, 10), (2, 15))]:
        assert lcm(x[1], y[1]) % add(x, y)[1] == 0
