from svgkit.bars import bar_chart
from svgkit.frame import frame


def test_bar_chart():
    assert bar_chart([1, 3], ["a", "b"], width=120, height=100, margin=10) == (
        '<g class="bar-chart">'
        + frame(120, 100, 10, [(35, "a"), (85, "b")], [(90, "0"), (10, "3")])
        + '<rect x="15" y="63.333" width="40" height="26.667" fill="steelblue"/>'
        + '<rect x="65" y="10" width="40" height="80" fill="steelblue"/>'
        + "</g>"
    )


def test_all_zero_and_bad_input():
    chart = bar_chart([0, 0], ["a", "b"], fill="red")
    assert chart.count('height="0" fill="red"') == 2
    for values, labels in [([], []), ([1], ["a", "b"]), ([1, -1], ["a", "b"])]:
        try:
            bar_chart(values, labels)
        except ValueError:
            continue
        raise AssertionError(f"bar_chart({values}, {labels}) did not raise ValueError")
