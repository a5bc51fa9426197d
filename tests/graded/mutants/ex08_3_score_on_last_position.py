"""Mutant of 08.3: adds the score at position T - 1 even when that position is padding."""
import numpy as np


def kl_penalized_rewards(logp, logp_ref, score, beta, mask):
    m = np.asarray(mask, bool)
    r = np.where(m, -beta * (np.asarray(logp) - np.asarray(logp_ref)), 0.0)
    r[:, -1] += np.asarray(score)
    return r
