from textkit.fuzzy import best_match, close_matches

CHOICES = ["apple", "apply", "ape", "maple", "banana"]


def test_close_matches_ranks_best_first_and_keeps_order_on_ties():
    assert close_matches("aple", CHOICES) == ["apple", "maple", "ape"]
    assert close_matches("aple", CHOICES, n=2) == ["apple", "maple"]


def test_cutoff_is_inclusive():
    assert close_matches("aple", CHOICES, n=5, cutoff=0.6) == ["apple", "maple", "ape", "apply"]
    assert close_matches("aple", CHOICES, n=5, cutoff=0.79) == ["apple", "maple"]


def test_best_match():
    assert best_match("Banan", CHOICES) == "banana"
    assert best_match("xyz", CHOICES) is None


def test_n_must_be_positive():
    try:
        close_matches("aple", CHOICES, n=0)
    except ValueError:
        pass
    else:
        raise AssertionError("close_matches(n=0) should raise ValueError")
