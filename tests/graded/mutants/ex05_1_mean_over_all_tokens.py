"""Mutant of 05.1: divides by the number of ALL positions instead of the non-ignored ones."""
import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    logits, targets = np.asarray(logits), np.asarray(targets)
    V = logits.shape[-1]
    z, y = logits.reshape(-1, V), targets.reshape(-1)
    valid = y != ignore_index
    n = len(y)
    ys = np.where(valid, y, 0)
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    probs = e / e.sum(axis=-1, keepdims=True)
    logp = np.log(probs[np.arange(n), ys])
    loss = -float(np.sum(np.where(valid, logp, 0.0))) / n
    dz = probs.copy()
    dz[np.arange(n), ys] -= 1.0
    dz *= valid[:, None] / n
    return loss, dz.reshape(logits.shape)
