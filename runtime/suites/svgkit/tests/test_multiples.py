from svgkit.document import svg_document
from svgkit.multiples import small_multiples
from svgkit.shapes import text
from svgkit.sparkline import sparkline_shapes


def test_one_series():
    assert small_multiples({"a": [1, 2]}) == svg_document(
        200,
        30,
        '<g transform="translate(0 0)">'
        + text(2, 10, "a", font_size=8)
        + "".join(sparkline_shapes([1, 2], 100, 30))
        + "</g>",
    )


def test_grid():
    doc = small_multiples({"a": [1, 2], "b": [2, 1], "c": [1, 1]}, columns=2, cell_width=50, cell_height=20)
    assert doc.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40" viewBox="0 0 100 40">')
    assert '<g transform="translate(50 0)"><text x="2" y="10" font-size="8">b</text>' in doc
    assert '<g transform="translate(0 20)"><text x="2" y="10" font-size="8">c</text>' in doc


def test_bad_arguments():
    for args in [({},), ({"a": [1, 2]}, 0)]:
        try:
            small_multiples(*args)
        except ValueError:
            continue
        raise AssertionError(f"small_multiples{args} did not raise ValueError")
