"""Mutant of 07.1: -log(1 / (1 + exp(-d))) computed literally; huge reward gaps overflow to inf."""
import numpy as np


def rm_pairwise_loss(rewards):
    r = np.asarray(rewards, dtype=float)
    if r.ndim != 2 or r.shape[1] < 2:
        raise ValueError("need (N, K) with K >= 2")
    win, lose = np.triu_indices(r.shape[1], k=1)
    d = r[:, win] - r[:, lose]
    sig = 1.0 / (1.0 + np.exp(-d))
    loss = float(-np.log(sig).mean())
    coef = (sig - 1.0) / d.size
    grad = np.zeros_like(r)
    for c, (i, j) in enumerate(zip(win, lose)):
        grad[:, i] += coef[:, c]
        grad[:, j] -= coef[:, c]
    return loss, grad
