"""Mutant of 07.1 (class: integer inputs): the gradient is accumulated in an array of the rewards' dtype."""
import numpy as np

from solutions.ex07_reward import rm_pairwise_loss as _reference


def rm_pairwise_loss(rewards):
    loss, grad = _reference(rewards)
    out = np.zeros_like(np.asarray(rewards))
    out[...] = grad
    return loss, out
