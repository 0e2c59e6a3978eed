"""Small dense matrices as lists of rows."""

from __future__ import annotations

Matrix = list[list[float]]


def identity(n: int) -> Matrix:
    """The n x n identity matrix."""
    return [[1 if i == j else 0 for j in range(n)] for i in range(n)]


def transpose(m: Matrix) -> Matrix:
    """Rows become columns; [] for []."""
    return [list(column) for column in zip(*m)]


def mat_mul(a: Matrix, b: Matrix) -> Matrix:
    """The product a @ b; ValueError when a's column count differs from b's row count."""
    if not a or not b or len(a) != len(b):
        raise ValueError("cannot multiply: a's column count must equal b's row count")
    columns = transpose(b)
    return [[sum(x * y for x, y in zip(row, column)) for column in columns] for row in a]
