"""11.1 pass_at_k from Python's exact integer binomials: int / int is correctly rounded however large."""
import math
import numbers


def pass_at_k(n, c, k):
    for name, v in (("n", n), ("c", c), ("k", k)):
        if not isinstance(v, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {v!r}")
    n, c, k = int(n), int(c), int(k)
    if c < 0 or c > n or k < 1 or k > n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)
