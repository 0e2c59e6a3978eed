from mathkit.gcd import gcd


def test_gcd_of_positive_numbers():
    assert gcd(12, 18) == 6
    assert gcd(17, 5) == 1
    assert gcd(7, 7) == 7


def test_gcd_with_zero_and_negatives():
    assert gcd(0, 7) == 7
    assert gcd(0, 0) == 0
    assert gcd(-12, 0) == 12
    assert gcd(-12, 18) == 6
    assert gcd(12, -18) == 6
