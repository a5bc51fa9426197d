"""Mutant of 11.1 (the biased estimator): 1 − (1 − c/n)^k, as if the k samples were drawn with replacement."""


def pass_at_k(n, c, k):
    if not (0 <= c <= n and 1 <= k <= n) or isinstance(n, float):
        raise ValueError(f"bad n={n}, c={c}, k={k}")
    return 1.0 - (1.0 - c / n) ** k
