import math

from svgkit.text_layout import text_width, wrap_text


def test_text_width():
    assert math.isclose(text_width("abcd", 10), 24.0)
    assert text_width("", 10) == 0


def test_wrap_text():
    assert wrap_text("the quick brown fox", 50, 10) == ["the", "quick", "brown", "fox"]
    assert wrap_text("the quick  brown fox", 60, 10) == ["the quick", "brown fox"]
    assert wrap_text("a b c", 1000, 10) == ["a b c"]
    assert wrap_text("ab cd", 30, 10) == ["ab cd"]
    assert wrap_text("extraordinarily x", 30, 10) == ["extraordinarily", "x"]
    assert wrap_text("   ", 100, 10) == []
