"""Mutant of 09.1: the loss and its gradient are summed over the pairs instead of averaged."""
import numpy as np


def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    pc, pr, rc, rr = (np.asarray(a, dtype=float) for a in (pi_chosen, pi_rejected, ref_chosen, ref_rejected))
    if pc.ndim != 1 or pc.size == 0 or not pc.shape == pr.shape == rc.shape == rr.shape or beta <= 0:
        raise ValueError("bad input")
    m = beta * ((pc - rc) - (pr - rr))
    pull = np.exp(-np.logaddexp(0.0, m))
    return float(np.logaddexp(0.0, -m).sum()), -beta * pull, beta * pull
