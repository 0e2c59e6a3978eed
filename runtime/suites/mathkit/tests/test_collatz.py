from mathkit.collatz import collatz_sequence, collatz_steps


def test_collatz_sequence():
    assert collatz_sequence(1) == [1]
    assert collatz_sequence(6) == [6, 3, 10, 5, 16, 8, 4, 2, 1]


def test_collatz_steps():
    assert collatz_steps(1) == 0
    assert collatz_steps(27) == 111
    try:
        collatz_steps(0)
    except ValueError:
        return
    raise AssertionError("collatz_steps(0) did not raise ValueError")
