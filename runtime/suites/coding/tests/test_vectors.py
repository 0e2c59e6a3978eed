import math

from textkit.vectors import cosine_similarity, dot, norm


def test_dot_and_norm():
    assert dot({"x": 1.0, "y": 2.0}, {"y": 3.0, "z": 4.0}) == 6.0
    assert dot({}, {"a": 1.0}) == 0.0
    assert norm({"a": 3.0, "b": 4.0}) == 5.0


def test_cosine_similarity():
    assert math.isclose(cosine_similarity({"a": 1.0, "b": 1.0}, {"a": 2.0, "b": 2.0}), 1.0)
    assert cosine_similarity({"a": 1.0}, {"b": 1.0}) == 0.0
    assert math.isclose(cosine_similarity({"a": 1.0}, {"a": 1.0, "b": 1.0}), 1 / math.sqrt(2))


def test_cosine_similarity_of_an_empty_vector_is_zero():
    assert cosine_similarity({}, {"a": 1.0}) == 0.0
    assert cosine_similarity({"a": 0.0}, {"a": 1.0}) == 0.0
