"""Mutant of 08.2: ratio = old / new probability instead of new / old."""
from solutions.ex08_ppo import ppo_clip_loss as _reference


def ppo_clip_loss(logp_new, logp_old, advantages, eps=0.2, mask=None):
    return _reference(logp_old, logp_new, advantages, eps, mask)
