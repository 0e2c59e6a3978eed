from mathkit.digits import digit_sum, digital_root


def test_digit_sum():
    assert digit_sum(0) == 0
    assert digit_sum(1234) == 10
    assert digit_sum(-99) == 18


def test_digital_root():
    assert digital_root(0) == 0
    assert digital_root(9) == 9
    assert digital_root(1234) == 1
    assert digital_root(-38) == 2
