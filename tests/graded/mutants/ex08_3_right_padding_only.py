"""Mutant of 08.3 (class: masks padded on the other side): the last real token is taken as mask.sum() − 1."""
import numpy as np


def kl_penalized_rewards(logp, logp_ref, score, beta, mask):
    m = np.asarray(mask, dtype=bool)
    rewards = np.where(m, -beta * (np.asarray(logp) - np.asarray(logp_ref)), 0.0)
    for b in range(m.shape[0]):
        n = int(m[b].sum())
        if n:
            rewards[b, n - 1] += np.asarray(score)[b]
    return rewards
