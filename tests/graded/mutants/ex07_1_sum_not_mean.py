"""Mutant of 07.1: sums the pair losses of each prompt instead of averaging over C(K, 2)."""
import numpy as np

from solutions.ex07_reward import rm_pairwise_loss as _reference


def rm_pairwise_loss(rewards):
    loss, grad = _reference(rewards)
    K = np.shape(rewards)[1]
    pairs = K * (K - 1) // 2
    return loss * pairs, grad * pairs
