from mathkit.modular import mod_inverse, mod_pow


def test_mod_pow():
    assert mod_pow(2, 10, 1000) == 24
    assert mod_pow(3, 0, 7) == 1
    assert mod_pow(3, 0, 1) == 0
    assert all(mod_pow(b, e, m) == pow(b, e, m) for b in range(-3, 6) for e in range(6) for m in range(1, 9))


def test_mod_inverse():
    assert mod_inverse(3, 11) == 4
    assert mod_inverse(10, 17) * 10 % 17 == 1
    try:
        mod_inverse(6, 9)
    except ValueError:
        return
    raise AssertionError("mod_inverse(6, 9) did not raise ValueError")
