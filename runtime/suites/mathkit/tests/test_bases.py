from mathkit.bases import from_base, to_base


def test_to_base():
    assert to_base(0, 2) == "0"
    assert to_base(10, 2) == "1010"
    assert to_base(255, 16) == "ff"
    assert to_base(-35, 36) == "-z"


def test_from_base_and_round_trip():
    assert from_base("FF", 16) == 255
    assert from_base("-101", 2) == -5
    for n in [-1000, -1, 0, 7, 12345]:
        for base in [2, 7, 16, 36]:
            assert from_base(to_base(n, base), base) == n


def test_bad_input():
    for args in [("2", 2), ("", 10), ("g", 16)]:
        try:
            from_base(*args)
        except ValueError:
            continue
        raise AssertionError(f"from_base{args} did not raise ValueError")
