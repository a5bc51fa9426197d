"""Mutant of 09.1: β multiplies the loss, −β log σ(margin), instead of the margin inside σ."""
import numpy as np


def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    pc, pr, rc, rr = (np.asarray(a, dtype=float) for a in (pi_chosen, pi_rejected, ref_chosen, ref_rejected))
    if pc.ndim != 1 or pc.size == 0 or not pc.shape == pr.shape == rc.shape == rr.shape or beta <= 0:
        raise ValueError("bad input")
    d = (pc - rc) - (pr - rr)
    pull = np.exp(-np.logaddexp(0.0, d))
    return float(beta * np.logaddexp(0.0, -d).mean()), -beta * pull / d.size, beta * pull / d.size
