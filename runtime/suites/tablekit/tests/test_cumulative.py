from tablekit.cumulative import cumulative_sum


def test_cumulative_sum():
    table = [{"v": 1}, {"v": 2.5}, {"v": None}, {}, {"v": "x"}, {"v": 3}]
    assert [row["total"] for row in cumulative_sum(table, "v", "total")] == [1, 3.5, 3.5, 3.5, 3.5, 6.5]
    assert "total" not in table[0]
    assert cumulative_sum([], "v", "t") == []
