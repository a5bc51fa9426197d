"""Mutant of 05.3: applies top-p to the ORIGINAL distribution, then top-k."""

from solutions.ex05_pretraining import top_k_top_p_filter as _reference


def top_k_top_p_filter(logits, k=None, p=None):
    return _reference(_reference(logits, None, p), k, None)
