"""Mutant of 09.2: normalises by the mean and std of the whole batch instead of each group's."""
import numpy as np


def grpo_advantages(rewards, group_size, eps=1e-4):
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1 or group_size < 1 or len(r) % group_size or eps < 0:
        raise ValueError("bad input")
    if r.size == 0:
        return r
    return (r - r.mean()) / (r.std() + eps)
