"""Mutant of 08.3: adds the score on the first response token instead of the last real one."""
import numpy as np


def kl_penalized_rewards(logp, logp_ref, score, beta, mask):
    m = np.asarray(mask, bool)
    r = np.where(m, -beta * (np.asarray(logp) - np.asarray(logp_ref)), 0.0)
    r[:, 0] += np.where(m.any(axis=-1), np.asarray(score), 0.0)
    return r
