"""Mutant of 08.2: takes the max of the clipped and unclipped terms (optimistic instead of pessimistic)."""
import numpy as np


def ppo_clip_loss(logp_new, logp_old, advantages, eps=0.2, mask=None):
    logp_new = np.asarray(logp_new)
    m = np.ones(logp_new.shape, bool) if mask is None else np.asarray(mask, bool)
    n = max(int(m.sum()), 1)
    ratio = np.exp(logp_new - np.asarray(logp_old))
    un, cl = ratio * advantages, np.clip(ratio, 1 - eps, 1 + eps) * advantages
    obj = np.maximum(un, cl)
    grad = np.where((un >= cl) & m, -un / n, 0.0)
    return -float(np.sum(np.where(m, obj, 0.0))) / n, grad
