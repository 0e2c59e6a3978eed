from mathkit.matrix import identity, mat_mul, transpose


def test_identity_and_transpose():
    assert identity(2) == [[1, 0], [0, 1]]
    assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]
    assert transpose([]) == []


def test_mat_mul():
    a = [[1, 2], [3, 4]]
    assert mat_mul(a, [[5, 6], [7, 8]]) == [[19, 22], [43, 50]]
    assert mat_mul(a, identity(2)) == a
    assert mat_mul([[1, 2]], [[3], [4]]) == [[11]]
    assert mat_mul([[3], [4]], [[1, 2]]) == [[3, 6], [4, 8]]


def test_shape_mismatch():
    try:
        mat_mul([[1, 2]], [[1, 2]])
    except ValueError:
        return
    raise AssertionError("a 1x2 times 1x2 product did not raise ValueError")
