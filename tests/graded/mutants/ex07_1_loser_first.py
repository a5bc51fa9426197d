"""Mutant of 07.1: reads the ranking backwards (treats the LAST listed response as the best)."""
import numpy as np

from solutions.ex07_reward import rm_pairwise_loss as _reference


def rm_pairwise_loss(rewards):
    r = np.asarray(rewards, dtype=float)
    if r.ndim != 2:
        raise ValueError("need (N, K)")
    loss, grad = _reference(r[:, ::-1])
    return loss, grad[:, ::-1]
