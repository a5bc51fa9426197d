"""08.2 ppo_clip_loss by cases on the sign of A: the unclipped term is the min exactly when
A >= 0 and ρ <= 1 + ε, or A < 0 and ρ >= 1 − ε."""
import numpy as np


def ppo_clip_loss(logp_new, logp_old, advantages, eps=0.2, mask=None):
    new, old, A = np.asarray(logp_new), np.asarray(logp_old), np.asarray(advantages)
    m = np.ones(new.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    n = int(np.count_nonzero(m))
    if n == 0:
        return 0.0, np.zeros(new.shape, dtype=new.dtype)
    rho = np.exp(new.astype(np.float64) - old)
    A = A.astype(np.float64)
    unclipped_is_min = np.where(A >= 0, rho <= 1 + eps, rho >= 1 - eps)
    objective = np.where(unclipped_is_min, rho * A, np.clip(rho, 1 - eps, 1 + eps) * A)
    loss = -float(objective[m].sum()) / n
    grad = np.where(unclipped_is_min & m, -rho * A / n, 0.0)
    return loss, grad.astype(new.dtype)
