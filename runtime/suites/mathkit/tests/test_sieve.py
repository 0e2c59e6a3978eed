from mathkit.sieve import primes_up_to


def test_primes_up_to():
    assert primes_up_to(1) == []
    assert primes_up_to(2) == [2]
    assert primes_up_to(25) == [2, 3, 5, 7, 11, 13, 17, 19, 23]
    assert primes_up_to(29)[-1] == 29


def test_count_below_1000():
    assert len(primes_up_to(1000)) == 168
