from mathkit.divisors import divisors, is_perfect


def test_divisors():
    assert divisors(1) == [1]
    assert divisors(12) == [1, 2, 3, 4, 6, 12]
    assert divisors(16) == [1, 2, 4, 8, 16]
    assert divisors(13) == [1, 13]


def test_is_perfect():
    assert [n for n in range(1, 500) if is_perfect(n)] == [6, 28, 496]
