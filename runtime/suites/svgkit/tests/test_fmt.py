from svgkit.fmt import fmt


def test_whole_and_decimal_numbers():
    assert fmt(3) == "3"
    assert fmt(100.0) == "100"
    assert fmt(2.5) == "2.5"
    assert fmt(-1.25) == "-1.25"
    assert fmt(1 / 3) == "0.333"
    assert fmt(2 / 3) == "0.667"


def test_no_negative_zero_and_no_bools():
    assert fmt(0) == "0"
    assert fmt(-0.0001) == "0"
    assert fmt(-0.0) == "0"
    try:
        fmt(True)
    except TypeError:
        return
    raise AssertionError("fmt(True) did not raise TypeError")
