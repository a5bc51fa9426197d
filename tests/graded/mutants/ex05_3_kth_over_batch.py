"""Mutant of 05.3 (class: rows of very different scales): the k-th largest logit is taken over the whole batch."""
import numpy as np

from solutions.ex05_pretraining import top_k_top_p_filter as _reference


def top_k_top_p_filter(logits, k=None, p=None):
    x = np.array(logits, copy=True)
    if k and k < x.shape[-1]:
        kth = np.sort(x, axis=None)[x.size - k]
        x = np.where(x < kth, -np.inf, x)
        return _reference(x, None, p)
    return _reference(x, k, p)
