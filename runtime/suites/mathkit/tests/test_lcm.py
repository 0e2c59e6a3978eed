from mathkit.gcd import gcd
from mathkit.lcm import lcm, lcm_all


def test_lcm():
    assert lcm(4, 6) == 12
    assert lcm(0, 5) == 0
    assert lcm(-4, 6) == 12
    assert all(lcm(a, b) * gcd(a, b) == a * b for a in range(1, 13) for b in range(1, 13))


def test_lcm_all():
    assert lcm_all([2, 3, 4]) == 12
    assert lcm_all([]) == 1
    assert lcm_all([5]) == 5
    assert lcm_all(iter([6, -10])) == 30
