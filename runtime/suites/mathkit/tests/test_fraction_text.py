from mathkit.fraction_ops import sub
from mathkit.fraction_text import parse, to_mixed, to_text


def test_parse():
    assert parse("3/4") == (3, 4)
    assert parse(" -2 ") == (-2, 1)
    assert parse("6/8") == (3, 4)
    assert parse("1 1/2") == (3, 2)
    assert parse("-1 1/2") == (-3, 2)


def test_parse_rejects_junk():
    for text in ["abc", "1/", "1 2", "", "1/2/3"]:
        try:
            parse(text)
        except ValueError:
            continue
        raise AssertionError(f"parse({text!r}) did not raise ValueError")


def test_to_text_and_to_mixed():
    assert to_text((3, 4)) == "3/4"
    assert to_text((-2, 1)) == "-2"
    assert to_text((4, 8)) == "1/2"
    assert to_mixed((3, 2)) == "1 1/2"
    assert to_mixed((-3, 2)) == "-1 1/2"
    assert to_mixed((-7, 3)) == "-2 1/3"
    assert to_mixed((3, 4)) == "3/4"
    assert to_mixed((4, 2)) == "2"


def test_round_trip():
    for value in [(7, 3), (-7, 3), (1, 5), (-1, 5), (9, 1), (0, 1)]:
        assert parse(to_mixed(value)) == value
        assert parse(to_text(value)) == value


def test_mixed_numbers_agree_with_subtraction():
    assert parse("2 1/3") == sub((3, 1), (2, 3))
    assert to_mixed(sub((1, 2), (2, 1))) == "-1 1/2"
