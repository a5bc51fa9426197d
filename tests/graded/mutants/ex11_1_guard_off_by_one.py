"""Mutant of 11.1 (off by one in the shortcut): returns 1 already when k = n − c, where one all-wrong draw remains."""


def pass_at_k(n, c, k):
    if not (0 <= c <= n and 1 <= k <= n) or isinstance(n, float):
        raise ValueError(f"bad n={n}, c={c}, k={k}")
    if k >= n - c:
        return 1.0
    all_wrong = 1.0
    for i in range(k):
        all_wrong *= (n - c - i) / (n - i)
    return 1.0 - all_wrong
