"""03.2 online_softmax keeping a running log-sum-exp per row (np.logaddexp), split into (m, s) at the end."""
import numpy as np


def online_softmax(x, block):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D, got shape {x.shape}")
    if not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"block must be an integer >= 1, got {block!r}")
    R, C = x.shape
    m = np.full(R, -np.inf)
    lse = np.full(R, -np.inf)  # log Σ exp(x) over the columns seen so far
    for j in range(0, C, block):
        xb = x[:, j:j + block]
        m = np.maximum(m, xb.max(axis=1))
        lse = np.logaddexp(lse, np.logaddexp.reduce(xb, axis=1))
    with np.errstate(invalid="ignore"):
        s = np.where(np.isneginf(m), 0.0, np.exp(lse - m))
    return m, s
