"""Mutant of 09.1: −log σ(m) computed literally as −log(1 / (1 + e^{−m})); a margin of −1e3 overflows to inf."""
import numpy as np


def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    pc, pr, rc, rr = (np.asarray(a, dtype=float) for a in (pi_chosen, pi_rejected, ref_chosen, ref_rejected))
    if pc.ndim != 1 or pc.size == 0 or not pc.shape == pr.shape == rc.shape == rr.shape or beta <= 0:
        raise ValueError("bad input")
    m = beta * ((pc - rc) - (pr - rr))
    sig = 1.0 / (1.0 + np.exp(-m))
    loss = float(-np.log(sig).mean())
    return loss, -beta * (1.0 - sig) / m.size, beta * (1.0 - sig) / m.size
