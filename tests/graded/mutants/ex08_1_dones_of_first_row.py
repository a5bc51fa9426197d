"""Mutant of 08.1 (class: batched dones): the dones of the first row are used for every row."""
import numpy as np

from solutions.ex08_ppo import gae as _reference


def gae(rewards, values, gamma=1.0, lam=0.95, last_value=0.0, dones=None):
    if dones is not None and np.ndim(dones) == 2:
        dones = np.broadcast_to(np.asarray(dones)[0], np.shape(dones))
    return _reference(rewards, values, gamma, lam, last_value, dones)
