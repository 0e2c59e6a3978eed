from svgkit.path_parse import parse_path


def test_parse_path():
    assert parse_path("M 0 0 L 10,10 Z") == [("M", [0.0, 0.0]), ("L", [10.0, 10.0]), ("Z", [])]
    assert parse_path("M1.5-2l.5.5h-3") == [("M", [1.5, -2.0]), ("l", [0.5, 0.5]), ("h", [-3.0])]
    assert parse_path("") == []


def test_bad_paths():
    for d in ["M 0 0 X 1", "10 10", "M 1 # 2"]:
        try:
            parse_path(d)
        except ValueError:
            continue
        raise AssertionError(f"parse_path({d!r}) did not raise ValueError")
