from tablekit.shares import share_table
from tablekit.top_other import top_with_other

TIES = [{"k": "a", "v": 5}, {"k": "b", "v": 7}, {"k": "c", "v": 5}, {"k": "d", "v": 1}]


def test_share_table():
    assert share_table(TIES, "k", "v", 1) == [
        {"k": "b", "sum_v": 7.0, "share": 0.3889},
        {"k": "(other)", "sum_v": 11.0, "share": 0.6111},
    ]


def test_zero_total():
    assert share_table([{"k": "a", "v": 0}], "k", "v", 3) == [{"k": "a", "sum_v": 0.0, "share": 0.0}]


def test_shares_extend_top_with_other():
    rows = share_table(TIES, "k", "v", 2)
    assert [{k: v for k, v in r.items() if k != "share"} for r in rows] == top_with_other(TIES, "k", "v", 2)
    assert abs(sum(r["share"] for r in rows) - 1) < 1e-3
