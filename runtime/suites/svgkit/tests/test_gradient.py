from svgkit.gradient import linear_gradient


def test_linear_gradient():
    assert linear_gradient("g", [(0, "red"), (0.5, "#fff"), (1, "blue")]) == (
        '<linearGradient id="g" x1="0" y1="0" x2="1" y2="0">'
        '<stop offset="0%" stop-color="red"/><stop offset="50%" stop-color="#fff"/>'
        '<stop offset="100%" stop-color="blue"/></linearGradient>'
    )
    assert linear_gradient("v", [(0, "a"), (1, "b")], x2="0", y2="1").startswith(
        '<linearGradient id="v" x1="0" y1="0" x2="0" y2="1">'
    )


def test_bad_stops():
    for stops in [[(0, "a")], [(0.5, "a"), (0.2, "b")], [(0, "a"), (1.5, "b")]]:
        try:
            linear_gradient("g", stops)
        except ValueError:
            continue
        raise AssertionError(f"stops {stops} did not raise ValueError")
