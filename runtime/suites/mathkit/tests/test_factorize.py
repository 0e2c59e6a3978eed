from mathkit.factorize import factorize


def test_factorize():
    assert factorize(1) == []
    assert factorize(2) == [2]
    assert factorize(12) == [2, 2, 3]
    assert factorize(14) == [2, 7]
    assert factorize(97) == [97]
    assert factorize(360) == [2, 2, 2, 3, 3, 5]


def test_factorize_rejects_zero():
    try:
        factorize(0)
    except ValueError:
        return
    raise AssertionError("factorize(0) did not raise ValueError")
