from tablekit.rank import rank
from tablekit.top import top_n

TIES = [{"k": "a", "v": 5}, {"k": "b", "v": 7}, {"k": "c", "v": 5}, {"k": "d", "v": 1}]


def test_top_n_keeps_ties():
    assert [(r["k"], r["rank"]) for r in top_n(TIES, "k", "v", 2)] == [("b", 1), ("a", 2), ("c", 2)]
    assert [r["k"] for r in top_n(TIES, "k", "v", 1)] == ["b"]
    assert len(top_n(TIES, "k", "v", 10)) == 4
    assert top_n(TIES, "k", "v", 0) == []


def test_top_n_is_a_prefix_of_the_ranking():
    for n in range(5):
        assert top_n(TIES, "k", "v", n) == rank(TIES, "k", "v")[: len(top_n(TIES, "k", "v", n))]
