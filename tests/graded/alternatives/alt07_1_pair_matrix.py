"""07.1 rm_pairwise_loss from the full K x K matrix of reward differences, masked to i < j, with a
softplus and a sigmoid written out in their stable branch form."""
import numpy as np


def rm_pairwise_loss(rewards):
    r = np.asarray(rewards)
    if r.ndim != 2 or r.shape[1] < 2:
        raise ValueError(f"rewards must be (N, K) with K >= 2, got {r.shape}")
    N, K = r.shape
    r = r.astype(np.float64)
    d = r[:, :, None] - r[:, None, :]  # (N, K, K): d[n, i, j] = r_i − r_j
    upper = np.triu(np.ones((K, K), dtype=bool), k=1)  # i ranked above j
    count = N * K * (K - 1) // 2
    softplus = np.maximum(-d, 0.0) + np.log1p(np.exp(-np.abs(d)))  # −log σ(d)
    loss = float(softplus[:, upper].sum() / count)
    e = np.exp(-np.abs(d))
    sig_neg = np.where(d >= 0, e / (1.0 + e), 1.0 / (1.0 + e))  # σ(−d)
    g = np.where(upper, -sig_neg, 0.0) / count  # d loss / d d[n, i, j]
    return loss, g.sum(axis=2) - g.sum(axis=1)  # + for the winner i, − for the loser j
