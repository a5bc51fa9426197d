"""Mutant of 09.2: groups taken with a stride (response i in group i mod P) instead of consecutively."""
import numpy as np


def grpo_advantages(rewards, group_size, eps=1e-4):
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1 or group_size < 1 or len(r) % group_size or eps < 0:
        raise ValueError("bad input")
    g = r.reshape(group_size, -1)  # (G, P): column p taken as group p
    return ((g - g.mean(axis=0, keepdims=True)) / (g.std(axis=0, keepdims=True) + eps)).reshape(-1)
