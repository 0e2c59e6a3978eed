from svgkit.multiples import small_multiples
from svgkit.titled import titled_multiples, with_title


def test_with_title():
    assert with_title('<svg a="1"><g/></svg>', "T & U") == '<svg a="1"><title>T &amp; U</title><g/></svg>'
    assert with_title("<svg><g/></svg>", "T", "a <b>") == "<svg><title>T</title><desc>a &lt;b&gt;</desc><g/></svg>"


def test_not_a_document():
    for svg in ["<g/>", '<svg a="1"/>']:
        try:
            with_title(svg, "T")
        except ValueError:
            continue
        raise AssertionError(f"with_title({svg!r}) did not raise ValueError")


def test_titled_multiples():
    series = {"a": [1, 2], "b": [3, 1]}
    assert titled_multiples(series, "T", columns=1) == with_title(small_multiples(series, 1), "T")
