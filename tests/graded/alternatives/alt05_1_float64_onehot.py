"""05.1 cross_entropy worked in float64 with a one-hot matrix, the gradient cast back to the logits' float type."""
import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    logits, targets = np.asarray(logits), np.asarray(targets)
    V = logits.shape[-1]
    out_dtype = logits.dtype if logits.dtype.kind == "f" else np.float64
    z = logits.reshape(-1, V).astype(np.float64)
    y = targets.reshape(-1)
    if y.shape[0] != z.shape[0]:
        raise ValueError(f"targets {targets.shape} must be logits {logits.shape} without its last axis")
    keep = y != ignore_index
    if np.any((y[keep] < 0) | (y[keep] >= V)):
        raise ValueError(f"targets must lie in [0, {V}) or equal ignore_index")
    n = int(keep.sum())
    if n == 0:
        return 0.0, np.zeros(logits.shape, dtype=out_dtype)
    rows = np.flatnonzero(keep)
    onehot = np.zeros_like(z)
    onehot[rows, y[rows]] = 1.0
    top = z.max(axis=-1, keepdims=True)
    lse = top + np.log(np.exp(z - top).sum(axis=-1, keepdims=True))  # (N, 1)
    loss = float(((lse - z) * onehot).sum() / n)
    grad = (np.exp(z - lse) - onehot) * keep[:, None] / n
    return loss, grad.reshape(logits.shape).astype(out_dtype)
