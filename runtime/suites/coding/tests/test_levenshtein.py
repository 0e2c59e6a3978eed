from textkit.levenshtein import levenshtein, similarity


def test_levenshtein_distance():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("flaw", "lawn") == 2
    assert levenshtein("abc", "abc") == 0
    assert levenshtein("", "abc") == 3
    assert levenshtein("abc", "") == 3


def test_similarity():
    assert similarity("", "") == 1.0
    assert similarity("abcd", "abce") == 0.75
    assert similarity("abc", "xyz") == 0.0
