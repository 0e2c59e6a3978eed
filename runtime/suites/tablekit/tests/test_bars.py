from tablekit.bars import share_bars
from tablekit.shares import share_table

TIES = [{"k": "a", "v": 5}, {"k": "b", "v": 7}, {"k": "c", "v": 5}, {"k": "d", "v": 1}]


def test_share_bars():
    assert share_bars(TIES, "k", "v", 1, width=10) == [
        "b       | ####       | 38.9%",
        "(other) | ######     | 61.1%",
    ]


def test_default_width():
    lines = share_bars(TIES, "k", "v", 3)
    assert lines[0] == "b       | ########             | 38.9%"
    assert len(lines) == 4 and len({line.index(" | ") for line in lines}) == 1


def test_one_bar_per_share():
    rows = share_table(TIES, "k", "v", 2)
    lines = share_bars(TIES, "k", "v", 2)
    assert len(lines) == len(rows)
    assert all(line.endswith(f"{row['share'] * 100:.1f}%") for line, row in zip(lines, rows))
