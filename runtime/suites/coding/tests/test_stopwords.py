from textkit.stopwords import STOP_WORDS, is_stop_word, remove_stop_words


def test_stop_word_list():
    assert isinstance(STOP_WORDS, frozenset)
    assert len(STOP_WORDS) == 44
    assert {"a", "i", "the", "your", "which"} <= STOP_WORDS


def test_is_stop_word_ignores_case():
    assert is_stop_word("the")
    assert is_stop_word("The")
    assert not is_stop_word("python")


def test_remove_stop_words_keeps_order_and_case():
    assert remove_stop_words(["The", "Cat", "is", "on", "the", "mat"]) == ["Cat", "mat"]
    assert remove_stop_words([]) == []
