"""Modular exponentiation and inverses."""

from __future__ import annotations


def mod_pow(base: int, exponent: int, modulus: int) -> int:
    """base ** exponent % modulus by square-and-multiply; ValueError for exponent < 0 or modulus < 1."""
    if exponent < 0 or modulus < 1:
        raise ValueError("need exponent >= 0 and modulus >= 1")
    result = 1
    base %= modulus
    while exponent:
        if exponent & 1:
            result = result * base % modulus
        base = base * base % modulus
        exponent >>= 1
    return result


def mod_inverse(a: int, modulus: int) -> int:
    """The x in [0, modulus) with a * x % modulus == 1, by the extended Euclidean algorithm; ValueError if none."""
    old_r, r = a % modulus, modulus
    old_s, s = 1, 0
    while r:
        q = old_r // r
        old_r, r = r, old_r - q * r
        old_s, s = s, old_s - q * s
    if old_r != 1:
        raise ValueError(f"{a} has no inverse modulo {modulus}")
    return old_s % modulus
