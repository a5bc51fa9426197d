"""Mutant of 11.1 (off by one): the product of (n−c−i)/(n−i) runs over i = 1..k instead of i = 0..k−1."""


def pass_at_k(n, c, k):
    if not (0 <= c <= n and 1 <= k <= n) or isinstance(n, float):
        raise ValueError(f"bad n={n}, c={c}, k={k}")
    if k > n - c:
        return 1.0
    all_wrong = 1.0
    for i in range(1, k + 1):
        all_wrong *= (n - c - i) / (n - i) if n - i else 0.0
    return 1.0 - all_wrong
