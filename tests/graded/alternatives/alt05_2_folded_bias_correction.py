"""05.2 adamw_step with the bias corrections folded into the step size (the "efficient" form of the Adam paper)
and the decay applied as a factor: p (1 − lr·wd) − α m / (√v + ε √(1 − β2^t)), α = lr √(1 − β2^t) / (1 − β1^t)."""
import math

import numpy as np


def adamw_step(p, g, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    if t < 1:
        raise ValueError(f"t counts steps from 1, got {t}")
    b1, b2 = betas
    m_new = b1 * np.asarray(m) + (1.0 - b1) * np.asarray(g)
    v_new = b2 * np.asarray(v) + (1.0 - b2) * np.square(g)
    c2 = math.sqrt(1.0 - b2**t)
    alpha = lr * c2 / (1.0 - b1**t)
    p_new = np.asarray(p) * (1.0 - lr * weight_decay) - alpha * m_new / (np.sqrt(v_new) + eps * c2)
    return p_new, m_new, v_new
