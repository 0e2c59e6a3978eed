from tablekit.bars import share_bars
from tablekit.report import report

TIES = [{"k": "a", "v": 5}, {"k": "b", "v": 7}, {"k": "c", "v": 5}, {"k": "d", "v": 1}]


def test_report():
    assert report(TIES, "k", "v", n=1) == (
        "## sum of v by k\n"
        "\n"
        "Total: 18 over 4 groups.\n"
        "\n"
        "    b       | ########             | 38.9%\n"
        "    (other) | ############         | 61.1%"
    )


def test_report_rejects_means():
    try:
        report(TIES, "k", "v", how="mean")
    except ValueError:
        return
    raise AssertionError("how='mean' did not raise ValueError")


def test_report_embeds_the_bars():
    assert report(TIES, "k", "v", n=2).splitlines()[4:] == ["    " + line for line in share_bars(TIES, "k", "v", 2)]
