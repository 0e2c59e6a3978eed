from mathkit.interpolate import clamp, inverse_lerp, lerp


def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0
    assert clamp(11, 0, 10) == 10
    try:
        clamp(1, 2, 1)
    except ValueError:
        return
    raise AssertionError("clamp with lo > hi did not raise ValueError")


def test_lerp_and_inverse():
    assert lerp(10, 20, 0.5) == 15
    assert lerp(10, 20, 0) == 10
    assert lerp(10, 20, 2) == 30
    assert inverse_lerp(10, 20, 15) == 0.5
    assert inverse_lerp(20, 10, 12.5) == 0.75
