"""09.1 dpo_loss in the inputs' own dtype (float32 stays float32), σ(−m) as 1 / (1 + e^{m}) with m clipped to ±500."""
import numpy as np


def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    pc, pr, rc, rr = (np.asarray(a) for a in (pi_chosen, pi_rejected, ref_chosen, ref_rejected))
    if pc.ndim != 1 or pc.size == 0 or not pc.shape == pr.shape == rc.shape == rr.shape:
        raise ValueError(f"need four 1-D arrays of one length B >= 1, got {pc.shape}, {pr.shape}, {rc.shape}, {rr.shape}")
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    m = beta * ((pc - rc) - (pr - rr))
    pull = 1 / (1 + np.exp(np.clip(m, -500, 500)))  # σ(−m); e^{500} is finite in float64, inf in float32 gives 0: right
    return float(np.mean(np.logaddexp(0, -m))), -beta * pull / len(m), beta * pull / len(m)
