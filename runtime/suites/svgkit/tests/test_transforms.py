from svgkit.transforms import combine, rotate, scale, translate


def test_transforms():
    assert translate(10) == "translate(10 0)"
    assert translate(1.5, -2) == "translate(1.5 -2)"
    assert scale(2) == "scale(2)"
    assert scale(2, 2) == "scale(2)"
    assert scale(2, 3) == "scale(2 3)"
    assert rotate(45) == "rotate(45)"
    assert rotate(90, 5, 5) == "rotate(90 5 5)"


def test_combine_and_errors():
    assert combine(translate(1, 2), "", scale(3)) == "translate(1 2) scale(3)"
    try:
        rotate(10, cx=1)
    except ValueError:
        return
    raise AssertionError("rotate with only cx did not raise ValueError")
