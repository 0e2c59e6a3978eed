from mathkit.fraction_sum import as_frac, frac_mean, frac_sum
from mathkit.fraction_text import parse, to_text


def test_as_frac():
    assert as_frac("1 1/2") == (3, 2)
    assert as_frac(4) == (4, 1)
    assert as_frac((2, -4)) == (-1, 2)


def test_frac_sum():
    assert frac_sum(["1/2", "1/3", (1, 6)]) == (1, 1)
    assert frac_sum([]) == (0, 1)
    assert frac_sum([1, "1 1/2"]) == (5, 2)


def test_frac_mean():
    assert frac_mean(["1/2", "1/4"]) == (3, 8)
    assert frac_mean(x for x in ["1/2", "1/4"]) == (3, 8)
    assert frac_mean([1, 2, 4]) == (7, 3)
    try:
        frac_mean([])
    except ValueError:
        return
    raise AssertionError("frac_mean([]) did not raise ValueError")


def test_text_in_and_out():
    assert to_text(frac_sum(["1 1/2", "-1/4"])) == "5/4"
    assert as_frac("-2 3/4") == parse("-2 3/4")
