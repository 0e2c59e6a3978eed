from textkit.counts import top_words, word_counts


def test_word_counts_in_order_of_first_occurrence():
    counts = word_counts("The cat and the hat")
    assert counts == {"the": 2, "cat": 1, "and": 1, "hat": 1}
    assert list(counts) == ["the", "cat", "and", "hat"]
    assert word_counts("The cat and the hat", drop_stop_words=True) == {"cat": 1, "hat": 1}


def test_top_words():
    assert top_words("b a b c a b", 2, drop_stop_words=False) == [("b", 3), ("a", 2)]
    assert top_words("dog cat dog cat bird", 2) == [("cat", 2), ("dog", 2)]
    assert top_words("", 3) == []
