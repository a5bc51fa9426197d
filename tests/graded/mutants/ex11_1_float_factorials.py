"""Mutant of 11.1 (overflow): binomials from float factorials, which overflow past 170!."""
import math


def pass_at_k(n, c, k):
    if not (0 <= c <= n and 1 <= k <= n) or isinstance(n, float):
        raise ValueError(f"bad n={n}, c={c}, k={k}")
    if k > n - c:
        return 1.0

    def comb(a, b):
        return math.gamma(a + 1) / (math.gamma(b + 1) * math.gamma(a - b + 1))

    return 1.0 - comb(n - c, k) / comb(n, k)
