from mathkit.fibonacci import fib_list, fibonacci


def test_fibonacci():
    assert fibonacci(0) == 0
    assert fibonacci(1) == 1
    assert fibonacci(10) == 55
    assert fibonacci(50) == 12586269025


def test_fib_list():
    assert fib_list(0) == []
    assert fib_list(8) == [0, 1, 1, 2, 3, 5, 8, 13]
