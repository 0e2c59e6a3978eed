from mathkit.rounding import round_half_up


def test_halves_go_up():
    assert round_half_up(2.5) == 3
    assert round_half_up(3.5) == 4
    assert round_half_up(-2.5) == -3
    assert round_half_up(2.4) == 2


def test_decimals():
    assert round_half_up(2.675, 2) == 2.68
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(1234.5, -1) == 1230
