from mathkit.roman import from_roman, to_roman


def test_to_roman():
    assert to_roman(4) == "IV"
    assert to_roman(9) == "IX"
    assert to_roman(14) == "XIV"
    assert to_roman(1994) == "MCMXCIV"
    assert to_roman(3999) == "MMMCMXCIX"


def test_from_roman_round_trip():
    assert from_roman("MCMXCIV") == 1994
    assert all(from_roman(to_roman(n)) == n for n in range(1, 400))


def test_out_of_range():
    for bad in (0, 4000):
        try:
            to_roman(bad)
        except ValueError:
            continue
        raise AssertionError(f"to_roman({bad}) did not raise ValueError")
