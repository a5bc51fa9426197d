"""Mutant of 05.1 (class: integer inputs): the gradient array takes the logits' dtype, so int logits truncate it."""
import numpy as np

from solutions.ex05_pretraining import cross_entropy as _reference


def cross_entropy(logits, targets, ignore_index=-100):
    loss, dz = _reference(logits, targets, ignore_index)
    out = np.zeros_like(np.asarray(logits))
    out[...] = dz
    return loss, out
