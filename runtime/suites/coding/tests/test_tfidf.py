import math

from textkit.tfidf import terms, tfidf


def test_terms_drop_stop_words_and_stem():
    assert terms("The cats were running quickly") == ["cat", "runn", "quick"]


def test_tfidf_weights():
    first, second = tfidf(["cat dog", "cat"])
    assert set(first) == {"cat", "dog"}
    assert math.isclose(first["cat"], 0.5)
    assert math.isclose(first["dog"], 0.5 * (math.log(3 / 2) + 1))
    assert second == {"cat": 1.0}


def test_tfidf_edge_cases():
    assert tfidf([]) == []
    assert tfidf(["the and", "cat"])[0] == {}
