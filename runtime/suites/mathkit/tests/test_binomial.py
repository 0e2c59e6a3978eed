from mathkit.binomial import binomial, pascal_row


def test_binomial():
    assert binomial(5, 2) == 10
    assert binomial(6, 3) == 20
    assert binomial(10, 0) == 1
    assert binomial(30, 15) == 155117520
    assert binomial(4, 5) == 0
    assert binomial(4, -1) == 0


def test_pascal_row():
    assert pascal_row(0) == [1]
    assert pascal_row(6) == [1, 6, 15, 20, 15, 6, 1]
