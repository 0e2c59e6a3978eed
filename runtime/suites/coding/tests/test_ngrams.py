from textkit.ngrams import ngrams, word_ngrams


def test_ngrams():
    assert ngrams(["a", "b", "c", "d"], 2) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert ngrams(["a", "b", "c"], 3) == [("a", "b", "c")]
    assert ngrams(["a", "b"], 3) == []


def test_ngrams_rejects_n_below_one():
    try:
        ngrams(["a"], 0)
    except ValueError:
        pass
    else:
        raise AssertionError("ngrams(n=0) should raise ValueError")


def test_word_ngrams():
    assert word_ngrams("The quick brown fox", 3) == ["the quick brown", "quick brown fox"]
