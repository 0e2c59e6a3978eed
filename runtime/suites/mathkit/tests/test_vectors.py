import math

from mathkit.vectors import cosine_similarity, dot, norm


def test_dot_and_norm():
    assert dot([1, 2, 3], [4, 5, 6]) == 32
    assert norm([3, 4]) == 5
    assert norm([]) == 0


def test_cosine_similarity():
    assert math.isclose(cosine_similarity([1, 0], [0, 1]), 0.0)
    assert math.isclose(cosine_similarity([1, 1], [2, 2]), 1.0)
    assert math.isclose(cosine_similarity([1, 0], [-1, 0]), -1.0)


def test_errors():
    for args in [([1, 2], [1]), ([0, 0], [1, 1])]:
        try:
            cosine_similarity(*args)
        except ValueError:
            continue
        raise AssertionError(f"cosine_similarity{args} did not raise ValueError")
