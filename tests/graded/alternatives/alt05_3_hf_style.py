"""05.3 top_k_top_p_filter the Hugging Face way: top-k by np.partition, top-p on the ascending sort
(remove a token when the mass up to and including it, counted from the least likely, is <= 1 − p)."""
import numpy as np


def top_k_top_p_filter(logits, k=None, p=None):
    x = np.array(logits, dtype=np.result_type(np.asarray(logits).dtype, np.float32), copy=True)
    V = x.shape[-1]
    if k is not None and k < 0:
        raise ValueError(f"k must be None, 0 or positive, got {k}")
    if p is not None and not p > 0:
        raise ValueError(f"p must be in (0, 1], got {p}")
    if k and k < V:
        kth = np.partition(x, V - k, axis=-1)[..., V - k : V - k + 1]
        x[x < kth] = -np.inf
    if p is not None and p < 1:
        order = np.argsort(x, axis=-1, kind="stable")  # ascending
        xs = np.take_along_axis(x, order, axis=-1)
        probs = np.exp(xs - xs[..., -1:])
        probs /= probs.sum(axis=-1, keepdims=True)
        remove_sorted = np.cumsum(probs, axis=-1) <= 1 - p
        remove_sorted[..., -1] = False  # the most likely token stays
        remove = np.zeros_like(remove_sorted)
        np.put_along_axis(remove, order, remove_sorted, axis=-1)
        x[remove] = -np.inf
    return x
