"""Mutant of 05.1: softmax without subtracting the row max; huge logits overflow to inf / NaN."""
import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    logits, targets = np.asarray(logits), np.asarray(targets)
    V = logits.shape[-1]
    z, y = logits.reshape(-1, V), targets.reshape(-1)
    valid = y != ignore_index
    n = int(valid.sum())
    if n == 0:
        return 0.0, np.zeros_like(logits)
    ys = np.where(valid, y, 0)
    e = np.exp(z)
    probs = e / e.sum(axis=-1, keepdims=True)
    loss = -float(np.sum(np.log(probs[np.arange(len(y)), ys])[valid])) / n
    dz = probs.copy()
    dz[np.arange(len(y)), ys] -= 1.0
    dz *= valid[:, None] / n
    return loss, dz.reshape(logits.shape)
