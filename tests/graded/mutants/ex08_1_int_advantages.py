"""Mutant of 08.1 (class: integer inputs): advantages stored in an array of the rewards' dtype."""
import numpy as np

from solutions.ex08_ppo import gae as _reference


def gae(rewards, values, gamma=1.0, lam=0.95, last_value=0.0, dones=None):
    adv, _ = _reference(rewards, values, gamma, lam, last_value, dones)
    out = np.zeros_like(np.asarray(rewards))
    out[...] = adv
    return out, out + np.asarray(values)
