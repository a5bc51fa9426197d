"""Mutant of 05.1: the loss is a mean but the gradient forgets the 1/N."""
import numpy as np

from solutions.ex05_pretraining import cross_entropy as _reference


def cross_entropy(logits, targets, ignore_index=-100):
    loss, dz = _reference(logits, targets, ignore_index)
    n = int(np.sum(np.asarray(targets) != ignore_index))
    return loss, dz * max(n, 1)
