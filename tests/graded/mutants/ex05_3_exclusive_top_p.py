"""Mutant of 05.3: keeps a token only if the mass INCLUDING it is <= p, dropping the token that crosses p."""
import numpy as np


def top_k_top_p_filter(logits, k=None, p=None):
    x = np.array(logits, dtype=float)
    V = x.shape[-1]
    if k and k < V:
        kth = np.sort(x, axis=-1)[..., V - k]
        x = np.where(x < kth[..., None], -np.inf, x)
    if p is not None and p < 1:
        order = np.argsort(-x, axis=-1, kind="stable")
        xs = np.take_along_axis(x, order, axis=-1)
        probs = np.exp(xs - xs[..., :1])
        probs /= probs.sum(axis=-1, keepdims=True)
        remove_sorted = np.cumsum(probs, axis=-1) > p
        remove_sorted[..., 0] = False
        remove = np.empty_like(remove_sorted)
        np.put_along_axis(remove, order, remove_sorted, axis=-1)
        x = np.where(remove, -np.inf, x)
    return x
