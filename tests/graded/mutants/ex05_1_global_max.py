"""Mutant of 05.1 (class: rows of very different scales): the logsumexp shift is the max of the whole batch."""
import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    z = np.asarray(logits, dtype=np.float64)
    V = z.shape[-1]
    z, y = z.reshape(-1, V), np.asarray(targets).reshape(-1)
    keep = y != ignore_index
    n = int(keep.sum())
    if n == 0:
        return 0.0, np.zeros(np.shape(logits))
    with np.errstate(all="ignore"):
        e = np.exp(z - z.max())
        p = e / e.sum(-1, keepdims=True)
        rows = np.arange(len(y))
        yy = np.where(keep, y, 0)
        loss = -float(np.log(p[rows, yy])[keep].sum()) / n
    p[rows, yy] -= 1.0
    p *= keep[:, None] / n
    return loss, p.reshape(np.shape(logits))
