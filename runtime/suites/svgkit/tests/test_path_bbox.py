from svgkit.path_bbox import path_bbox


def test_path_bbox():
    assert path_bbox("M 10 20 L 30 5 Z") == (10, 5, 30, 20)
    assert path_bbox("M0 0 H 50 V -10 H 0 Z") == (0, -10, 50, 0)
    assert path_bbox("M 5 5") == (5, 5, 5, 5)


def test_unsupported():
    for d in ["M 0 0 C 1 1 2 2 3 3", ""]:
        try:
            path_bbox(d)
        except ValueError:
            continue
        raise AssertionError(f"path_bbox({d!r}) did not raise ValueError")
