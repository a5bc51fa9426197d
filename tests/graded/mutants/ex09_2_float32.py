"""Mutant of 09.2: works in the rewards' own dtype; float32 rewards near 1e3 that differ by 1e-3 lose their spread."""
import numpy as np


def grpo_advantages(rewards, group_size, eps=1e-4):
    r = np.asarray(rewards)
    if r.ndim != 1 or group_size < 1 or len(r) % group_size or eps < 0:
        raise ValueError("bad input")
    if r.dtype.kind in "iu":
        r = r.astype(np.float64)
    g = r.reshape(-1, group_size)
    centred = g - g.mean(axis=1, keepdims=True)
    return (centred / (g.std(axis=1, keepdims=True) + r.dtype.type(eps))).reshape(-1)
