import math

from textkit.similarity import document_similarity, most_similar


def test_document_similarity():
    assert math.isclose(document_similarity("cats chase mice", "cats chase mice"), 1.0)
    assert document_similarity("cats chase mice", "stock markets fell") == 0.0
    assert 0.0 < document_similarity("the cat sat", "the cat ran") < 1.0


def test_most_similar_ranks_and_drops_unrelated_documents():
    ranked = most_similar("cat food", ["dog toys", "cat toys", "cat food recipes", "the news"])
    assert [index for index, _ in ranked] == [2, 1]
    assert ranked[0][1] > ranked[1][1] > 0.0
    assert most_similar("cat food", []) == []
