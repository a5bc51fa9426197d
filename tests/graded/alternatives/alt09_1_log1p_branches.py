"""09.1 dpo_loss with −log σ(m) = max(−m, 0) + log1p(e^{−|m|}) and σ(−m) in its two stable branches."""
import numpy as np


def dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    arrs = [np.asarray(a) for a in (pi_chosen, pi_rejected, ref_chosen, ref_rejected)]
    if any(a.ndim != 1 for a in arrs) or len({a.shape[0] for a in arrs}) != 1 or arrs[0].shape[0] == 0:
        raise ValueError(f"need four 1-D arrays of one length B >= 1, got {[a.shape for a in arrs]}")
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    pc, pr, rc, rr = (a.astype(np.float64) for a in arrs)
    margin = beta * ((pc - pr) - (rc - rr))
    B = margin.shape[0]
    loss = float(np.mean(np.maximum(-margin, 0.0) + np.log1p(np.exp(-np.abs(margin)))))
    e = np.exp(-np.abs(margin))
    sig_neg = np.where(margin >= 0, e / (1.0 + e), 1.0 / (1.0 + e))  # σ(−m)
    return loss, -beta * sig_neg / B, beta * sig_neg / B
