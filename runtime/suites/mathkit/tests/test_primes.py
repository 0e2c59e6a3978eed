from mathkit.primes import is_prime


def test_small_numbers():
    assert [n for n in range(-3, 30) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


def test_squares_of_primes_are_not_prime():
    assert not any(is_prime(p * p) for p in [2, 3, 5, 7, 11, 97])
    assert is_prime(7919)
