from svgkit.viewbox import fit_viewbox, parse_viewbox


def test_parse_viewbox():
    assert parse_viewbox("0 0 100 50") == (0.0, 0.0, 100.0, 50.0)
    assert parse_viewbox(" -10,5, 20 30 ") == (-10.0, 5.0, 20.0, 30.0)
    for bad in ["0 0 100", "0 0 0 10", "0 0 -1 10"]:
        try:
            parse_viewbox(bad)
        except ValueError:
            continue
        raise AssertionError(f"parse_viewbox({bad!r}) did not raise ValueError")


def test_fit_viewbox():
    assert fit_viewbox([(10, 20), (30, 5)]) == "10 5 20 15"
    assert fit_viewbox([(10, 20), (30, 5)], padding=2.5) == "7.5 2.5 25 20"
