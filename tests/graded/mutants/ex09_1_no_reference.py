"""Mutant of 09.1: the reference model's log-probs are left out (margin β(π_c − π_r))."""
import numpy as np


def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    pc, pr, rc, rr = (np.asarray(a, dtype=float) for a in (pi_chosen, pi_rejected, ref_chosen, ref_rejected))
    if pc.ndim != 1 or pc.size == 0 or not pc.shape == pr.shape == rc.shape == rr.shape or beta <= 0:
        raise ValueError("bad input")
    m = beta * (pc - pr)
    pull = np.exp(-np.logaddexp(0.0, m))
    return float(np.logaddexp(0.0, -m).mean()), -beta * pull / m.size, beta * pull / m.size
