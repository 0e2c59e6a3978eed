from svgkit.arrow import arrow
from svgkit.shapes import line


def test_horizontal_arrow():
    assert arrow(0, 0, 10, 0, head=4) == (
        '<g stroke="black" fill="black">' + line(0, 0, 10, 0) + '<polygon points="10,0 6,2 6,-2"/></g>'
    )


def test_upward_arrow():
    assert arrow(5, 20, 5, 0, head=6, color="red") == (
        '<g stroke="red" fill="red"><line x1="5" y1="20" x2="5" y2="0"/><polygon points="5,0 8,6 2,6"/></g>'
    )


def test_zero_length():
    try:
        arrow(1, 1, 1, 1)
    except ValueError:
        return
    raise AssertionError("a zero-length arrow did not raise ValueError")
