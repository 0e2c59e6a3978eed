from svgkit.color_mix import gradient_steps, mix


def test_mix():
    assert mix("#000000", "#ffffff", 0) == "#000000"
    assert mix("#000000", "#ffffff", 1) == "#ffffff"
    assert mix("#000", "#fff", 0.5) == "#808080"
    assert mix("#ff0000", "#0000ff", 0.25) == "#bf0040"


def test_gradient_steps():
    assert gradient_steps("#000000", "#0000ff", 3) == ["#000000", "#000080", "#0000ff"]
    for bad in [
        lambda: gradient_steps("#000", "#fff", 1),
        lambda: mix("#000", "#fff", 2),
        lambda: mix("red", "#fff", 0),
    ]:
        try:
            bad()
        except ValueError:
            continue
        raise AssertionError("bad arguments did not raise ValueError")
