from svgkit.minify import minify


def test_minify():
    svg = "\n<svg>\n  <!-- a\n comment -->\n  <g>\n    <text>a  b</text>\n  </g>\n</svg>\n"
    assert minify(svg) == "<svg><g><text>a  b</text></g></svg>"
    assert minify("<a/> <!--x--> <b/>") == "<a/><b/>"
