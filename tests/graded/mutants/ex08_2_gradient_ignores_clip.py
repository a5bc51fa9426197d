"""Mutant of 08.2: right loss, but the gradient flows through clipped tokens too."""
import numpy as np

from solutions.ex08_ppo import ppo_clip_loss as _reference


def ppo_clip_loss(logp_new, logp_old, advantages, eps=0.2, mask=None):
    loss, _ = _reference(logp_new, logp_old, advantages, eps, mask)
    m = np.ones(np.shape(logp_new), bool) if mask is None else np.asarray(mask, bool)
    n = max(int(m.sum()), 1)
    ratio = np.exp(np.asarray(logp_new) - np.asarray(logp_old))
    return loss, np.where(m, -ratio * advantages / n, 0.0)
