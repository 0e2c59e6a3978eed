from svgkit.colors import hex_to_rgb, rgb_to_hex


def test_hex_to_rgb():
    assert hex_to_rgb("#ff8800") == (255, 136, 0)
    assert hex_to_rgb("#F80") == (255, 136, 0)
    assert hex_to_rgb("#000000") == (0, 0, 0)


def test_rgb_to_hex_and_errors():
    assert rgb_to_hex((255, 136, 0)) == "#ff8800"
    assert rgb_to_hex((1, 2, 3)) == "#010203"
    for bad in [lambda: hex_to_rgb("ff8800"), lambda: hex_to_rgb("#ff880"), lambda: rgb_to_hex((256, 0, 0))]:
        try:
            bad()
        except ValueError:
            continue
        raise AssertionError("a bad colour did not raise ValueError")
