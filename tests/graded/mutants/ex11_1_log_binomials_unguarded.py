"""Mutant of 11.1 (k > n − c not giving 1): log-binomials via lgamma, with no case for k > n − c (lgamma of 0 or less)."""
import math


def pass_at_k(n, c, k):
    if not (0 <= c <= n and 1 <= k <= n) or isinstance(n, float):
        raise ValueError(f"bad n={n}, c={c}, k={k}")

    def log_comb(a, b):
        return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)

    return 1.0 - math.exp(log_comb(n - c, k) - log_comb(n, k))
